/**
 * After the load: what a buyer and an operator wait for before judging. Every wait has a
 * deadline and reports what was still open when it passed (the figures then show it).
 */
import type { CqrsStores } from '../src/admin/stores';
import type { Inventory } from '../src/inventory/inventory';
import type { Buy } from './plan';

export type SettledState = 'CONFIRMED' | 'VOIDED' | 'PENDING' | 'NOT_FOUND' | 'NO_ANSWER';

export interface Settled {
  state: SettledState;
  tickets?: { ticketId: string; row: string; column: number }[];
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until no zone has a pending (reserved, unacknowledged) purchase; returns how many are left. */
export async function waitPendingSettled(inventory: Inventory, eventId: string, zoneIds: string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(zoneIds.map((z) => inventory.pendingCount(eventId, z)));
    const left = counts.reduce((a, b) => a + b, 0);
    if (left === 0 || Date.now() > deadline) return left;
    await pause(250);
  }
}

/** Waits until the writer and the projector committed the log's end; returns the messages each is behind. */
export async function waitConsumers(
  stores: CqrsStores,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ writer: number; projector: number }> {
  const writer = await stores.waitForGroup('writer', timeoutMs, (n) => n > 0 && log(`  writer ${n} messages behind`));
  const projector = await stores.waitForGroup('projector', timeoutMs, (n) => n > 0 && log(`  projector ${n} messages behind`));
  return { writer, projector };
}

/** The purchase ids buyers heard only in a 503 (unknown outcome): the ones they must poll. */
export function unknownOutcomes(buys: Buy[]): string[] {
  const confirmed = new Set<string>();
  const unknown = new Set<string>();
  for (const b of buys) {
    for (const a of b.attempts) {
      if (!a.purchaseId) continue;
      if (a.status === 201) confirmed.add(a.purchaseId);
      else unknown.add(a.purchaseId);
    }
  }
  return [...unknown].filter((id) => !confirmed.has(id)).sort();
}

/**
 * Polls `GET /api/v1/purchases/{id}` as the buyers were told to, until each purchase is final
 * (CONFIRMED or VOIDED) or the deadline passes. A 404 is taken as final once it has lasted
 * `notFoundMs` (the polls run after the consumers caught up, so the stores had their chance).
 */
export async function pollPurchases(
  url: string,
  ids: string[],
  timeoutMs: number,
  notFoundMs = 5000,
  concurrency = 16,
): Promise<Map<string, Settled>> {
  const out = new Map<string, Settled>();
  const deadline = Date.now() + timeoutMs;
  const one = async (id: string): Promise<Settled> => {
    let last: Settled = { state: 'NO_ANSWER' };
    let notFoundSince: number | undefined;
    for (;;) {
      try {
        const res = await fetch(`${url}/api/v1/purchases/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json().catch(() => ({}))) as {
          status?: string;
          tickets?: { ticketId: string; row: string; column: number }[];
        };
        if (res.status === 404) {
          last = { state: 'NOT_FOUND' };
          notFoundSince ??= Date.now();
          if (Date.now() - notFoundSince >= notFoundMs) return last;
        } else if (res.status === 200 && (body.status === 'CONFIRMED' || body.status === 'VOIDED')) {
          return { state: body.status, tickets: (body.tickets ?? []).map((t) => ({ ticketId: t.ticketId, row: t.row, column: t.column })) };
        } else {
          notFoundSince = undefined;
          if (res.status === 200) last = { state: 'PENDING' };
        }
      } catch {
        /* no answer: keep polling until the deadline */
      }
      if (Date.now() > deadline) return last;
      await pause(500);
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        out.set(id, await one(id));
      }
    }),
  );
  return out;
}
