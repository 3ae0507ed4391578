import { queuedAdmission, type EventDef } from '../catalog/model';

/** A queued event's admission settings in the form the queue scripts take (docs/admission.md). */
export interface QueueSettings {
  eventId: string;
  activeBuyers: number;
  sessionMs: number;
  /** The sales opening (salesWindow.opensAt, ms); 0 = none: admission starts at once. */
  opensAt: number;
  /** From when buyers may join: prequeueOpensAt, else the sales opening (ms; 0 = any time). */
  joinsFrom: number;
  /** salesWindow.closesAt (ms); undefined = none. */
  closesAt?: number;
}

/** The settings of an event in queue mode; undefined for an open event (no waiting room). */
export function queueSettingsOf(e: EventDef | undefined): QueueSettings | undefined {
  const a = e && queuedAdmission(e);
  if (!e || !a) return undefined;
  const opensAt = e.salesOpensAt ? Date.parse(e.salesOpensAt) : 0;
  return {
    eventId: e.eventId,
    activeBuyers: a.activeBuyers,
    sessionMs: a.sessionSeconds * 1000,
    opensAt,
    joinsFrom: a.prequeueOpensAt ? Date.parse(a.prequeueOpensAt) : opensAt,
    ...(e.salesClosesAt ? { closesAt: Date.parse(e.salesClosesAt) } : {}),
  };
}
