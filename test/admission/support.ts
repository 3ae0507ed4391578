import type { AdmissionDef, CatalogEntry } from '../../src/catalog/model';
import { testEntry, type TestEventOptions } from '../support/catalog';
import { waitFor } from '../support/env';
import { http, type HttpAnswer } from '../support/platform';

/** A test event in queue mode (one 10×20 zone "1" by default). */
export function queuedEntry(o: TestEventOptions, admission: Partial<AdmissionDef> = {}): CatalogEntry {
  const rows = 'ABCDEFGHIJ'.split('');
  const entry = testEntry({ zones: [{ zoneId: '1', rows, seatCounts: rows.map(() => 20) }], ...o });
  return {
    ...entry,
    event: { ...entry.event, admission: { mode: 'queue', activeBuyers: 5, sessionSeconds: 600, ...admission } },
  };
}

/** The waiting room and the seat routes of one event, as a declared buyer (X-User-Id) calls them. */
export function queueClient(base: string, eventId: string) {
  const as = (user: string, token?: string): Record<string, string> => ({
    'x-user-id': user,
    ...(token ? { 'admission-token': token } : {}),
  });
  const c = {
    join: (user: string): Promise<HttpAnswer> => http(base, 'POST', `/api/v1/events/${eventId}/queue`, undefined, as(user)),
    status: (user: string, queueId: string): Promise<HttpAnswer> =>
      http(base, 'GET', `/api/v1/events/${eventId}/queue/${queueId}`, undefined, as(user)),
    hold: (user: string, seats: { row: string; column: number }[], token?: string, extra: Record<string, unknown> = {}) =>
      http(base, 'POST', `/api/v1/events/${eventId}/holds`, { zoneId: '1', seats, ...extra }, as(user, token)),
    release: (user: string, holdId: string) => http(base, 'DELETE', `/api/v1/holds/${holdId}`, undefined, as(user)),
    extend: (user: string, holdId: string, seconds: number, token?: string) =>
      http(base, 'POST', `/api/v1/holds/${holdId}/extend`, { seconds }, as(user, token)),
    pay: (user: string, holdId: string, token?: string) =>
      http(base, 'POST', `/api/v1/holds/${holdId}/purchase`, { payment: { provider: 'test', token: 'tok_visa' } }, as(user, token)),
    buy: (user: string, seats: { row: string; column: number }[], token?: string) =>
      http(base, 'POST', `/api/v1/events/${eventId}/purchases`, { zoneId: '1', seats, userId: user }, as(user, token)),
    /** Waits until the buyer's place reads ADMITTED; returns the status answer (admissionToken, expiresAt). */
    admitted: (user: string, queueId: string, timeoutMs = 5000) =>
      waitFor(
        async () => {
          const r = await c.status(user, queueId);
          return r.body?.status === 'ADMITTED' ? r : undefined;
        },
        `${user} (${queueId}) to be admitted`,
        timeoutMs,
        20,
      ),
  };
  return c;
}

export const seat = (row: string, column: number) => [{ row, column }];
