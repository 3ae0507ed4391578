/**
 * The page's admissions to queued events (docs/admission.md): the place in each event's waiting
 * room and, once admitted, the token every hold and purchase of the event carries as
 * `Admission-Token`. Kept in sessionStorage per event and buyer, so a reload keeps the place and
 * another tab or buyer does not borrow it.
 */
import { identity } from '../checkout/identity';

export interface Admission {
  queueId: string;
  token: string;
  /** Epoch ms: the session's end at the latest. */
  expiresAt: number;
}

interface Stored {
  buyer: string;
  queueId: string;
  token?: string;
  expiresAt?: number;
}

const key = (eventId: string) => `seatmap.admission.${eventId}`;
const listeners = new Set<(eventId: string, why: string) => void>();

function read(eventId: string): Stored | undefined {
  try {
    const raw = sessionStorage.getItem(key(eventId));
    const s = raw ? (JSON.parse(raw) as Stored) : undefined;
    return s && s.buyer === identity.buyer() ? s : undefined;
  } catch {
    return undefined;
  }
}

function write(eventId: string, s: Stored | undefined): void {
  try {
    if (s) sessionStorage.setItem(key(eventId), JSON.stringify(s));
    else sessionStorage.removeItem(key(eventId));
  } catch {
    /* storage off: the place lives for this page only (the server answers the same place on a new join) */
  }
}

export const admissions = {
  /** The live admission to `eventId`, if this buyer has one. */
  get(eventId: string): Admission | undefined {
    const s = read(eventId);
    if (!s?.token || !s.expiresAt || s.expiresAt <= Date.now()) return undefined;
    return { queueId: s.queueId, token: s.token, expiresAt: s.expiresAt };
  },
  /** The buyer's place in the waiting room (kept after admission too, to ask how it stands). */
  queueId(eventId: string): string | undefined {
    return read(eventId)?.queueId;
  },
  placed(eventId: string, queueId: string): void {
    const buyer = identity.buyer();
    if (buyer) write(eventId, { buyer, queueId });
  },
  admitted(eventId: string, a: Admission): void {
    const buyer = identity.buyer();
    if (buyer) write(eventId, { buyer, ...a });
  },
  /** The admission is over (bought, refused, timed out): the next visit joins again. */
  ended(eventId: string, why: string): void {
    if (!read(eventId)) return;
    write(eventId, undefined);
    for (const l of listeners) l(eventId, why);
  },
  onEnded(listener: (eventId: string, why: string) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** The header of holds and purchases of `eventId`: the admission's token, when there is one. */
  headers(eventId: string): Record<string, string> {
    const a = admissions.get(eventId);
    return a ? { 'admission-token': a.token } : {};
  },
};

/** The event of a hold id (`<eventId>.<zoneId>.h…`; event ids have no dots). */
export const eventOfHold = (holdId: string) => holdId.split('.')[0] ?? '';
