import { cancellationOf } from '../../src/events/tickets-cancelled';
import type { DecodedEvent } from '../../src/events/ticket-events';
import type { TicketPurchased } from '../../src/purchase/record';
import { planChunk, seatKeyOf, type SeatState } from '../../src/writer/chunk-plan';
import { record } from './support';

/** The writer's walk of a chunk (log order) over the seats as DynamoDB holds them. */
const events = (...es: (TicketPurchased | ReturnType<typeof cancellationOf>)[]): DecodedEvent[] =>
  es.map((event, offset) => ({ log: { topic: 't', partition: 0, offset, key: null, value: null, headers: {} }, event }));
const at = new Date('2030-01-01T00:00:00Z');
const seat = (p: TicketPurchased, i: number) => seatKeyOf(p.eventId, p.zoneId, p.tickets[i]!);

test('sale, cancel and resale of a seat in one chunk: the resale wins the seat, the cancelled ticket is written cancelled', () => {
  const p1 = record('E', '1', [{ row: 'A', column: 1 }]);
  const p2 = record('E', '1', [{ row: 'A', column: 1 }]);
  const plan = planChunk(events(p1, cancellationOf(p1, at), p2, p1), new Map());
  expect(plan.ticketPuts.get(p1.tickets[0]!.ticketId)?.cancelledAt).toBe(at.toISOString());
  expect(plan.ticketPuts.get(p2.tickets[0]!.ticketId)?.cancelledAt).toBeUndefined();
  expect(plan.seatPuts.get(seat(p2, 0))?.ticket.ticketId).toBe(p2.tickets[0]!.ticketId);
  expect(plan.seatCancels).toEqual([]);
  // The old sale again, after the resale: a conflict the writer resolves as a duplicate (its ticket is cancelled).
  expect(plan.conflicts.map((c) => c.record.purchaseId)).toEqual([p1.purchaseId]);
  expect({ ok: plan.ok, duplicate: plan.duplicate }).toEqual({ ok: 3, duplicate: 0 });
});

test('a cancellation of a stored seat is conditional on its ticket; a repeat is a duplicate', () => {
  const p1 = record('E', '1', [
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
  ]);
  const held = new Map<string, SeatState>([
    [seat(p1, 0), { ticketId: p1.tickets[0]!.ticketId, cancelled: false }],
    [seat(p1, 1), { ticketId: p1.tickets[1]!.ticketId, cancelled: false }],
  ]);
  const plan = planChunk(events(cancellationOf(p1, at), cancellationOf(p1, at), p1), held);
  expect(plan.seatCancels.map((c) => c.ticketId)).toEqual(p1.tickets.map((t) => t.ticketId));
  expect([...plan.ticketCancels.keys()]).toEqual(p1.tickets.map((t) => t.ticketId));
  expect(plan.ticketPuts.size + plan.seatPuts.size).toBe(0);
  expect({ ok: plan.ok, duplicate: plan.duplicate }).toEqual({ ok: 1, duplicate: 2 });
});

test('a sale delivered again after its cancellation is never written again, even when one of its seat items was never written', () => {
  const p1 = record('E', '1', [
    { row: 'A', column: 1 },
    { row: 'A', column: 2 },
  ]);
  // A crash between p1's seat writes left A2 without an item; the cancellation then marked A1.
  const held = new Map<string, SeatState>([[seat(p1, 0), { ticketId: p1.tickets[0]!.ticketId, cancelled: true }]]);
  const plan = planChunk(events(p1), held);
  expect(plan.ticketPuts.size + plan.seatPuts.size).toBe(0);
  expect(plan.duplicate).toBe(1);
});
