import type { DeadLetter } from '../stream/consumer';
import type { LogRecord } from '../stream/event-log';
import { decodeTicketPurchasedJson, type TicketPurchased } from './ticket-purchased';
import { decodeTicketsCancelledJson, type TicketsCancelled } from './tickets-cancelled';

/** Every event of the tickets topic. One zone's events share a key, so they are in log order. */
export type TicketEvent = TicketPurchased | TicketsCancelled;

/** A record of the log with the event it carries. */
export interface DecodedEvent {
  log: LogRecord;
  event: TicketEvent;
}

export type DecodedValue = { ok: true; event: TicketEvent } | { ok: false; reason: string };

/**
 * Decodes one value of the tickets topic by its `type`: `TicketsCancelled` has a codec of its
 * own, anything else is read as `TicketPurchased` (whose checks name what is wrong with it).
 */
export function decodeTicketEvent(value: Buffer | string | null): DecodedValue {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString() ?? '');
  } catch {
    return { ok: false, reason: 'invalid-json: the value is not JSON' };
  }
  const type = (json as { type?: unknown } | null)?.type;
  const d = type === 'TicketsCancelled' ? decodeTicketsCancelledJson(json) : decodeTicketPurchasedJson(json);
  return d.ok ? { ok: true, event: d.record } : d;
}

/** Decodes a chunk in log order: the usable events, and a dead letter for every other record. */
export function decodeTicketEvents(records: readonly LogRecord[]): { decoded: DecodedEvent[]; deadLetters: DeadLetter[] } {
  const decoded: DecodedEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const log of records) {
    const d = decodeTicketEvent(log.value);
    if (d.ok) decoded.push({ log, event: d.event });
    else deadLetters.push({ record: log, reason: d.reason });
  }
  return { decoded, deadLetters };
}
