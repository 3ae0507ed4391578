import { decodeTicketPurchased } from '../../src/events/ticket-purchased';

/** A hold's TicketPurchased record carries its payment reference; records without one (older ones, direct purchases) stay valid. */
const record = {
  schemaVersion: 1,
  type: 'TicketPurchased',
  purchaseId: 'E1.z.AAAAAAAAAAAAAAAA',
  eventId: 'E1',
  venueId: 'V1',
  zoneId: 'z',
  userId: 'ann',
  tickets: [{ ticketId: 'E1.z.AAAAAAAAAAAAAAAA.1', row: 'A', column: 1, priceCents: 5000 }],
  currency: 'EUR',
  createdOn: '2026-01-01T00:00:00.000Z',
};

test('a record without a payment decodes as before', () => {
  const d = decodeTicketPurchased(JSON.stringify(record));
  expect(d).toEqual({ ok: true, record });
});

test("a hold's record keeps its payment reference through the consumers' decoder", () => {
  const payment = { provider: 'test', paymentId: 'pay_test_0123456789abcdef01234567' };
  expect(decodeTicketPurchased(JSON.stringify({ ...record, payment }))).toEqual({ ok: true, record: { ...record, payment } });
});

test('a malformed payment reference is a dead letter, never a half-read record', () => {
  const d = decodeTicketPurchased(JSON.stringify({ ...record, payment: { provider: 'Te st', paymentId: '' } }));
  expect(d).toMatchObject({ ok: false, reason: expect.stringContaining('payment') });
});
