import { queueKeyList, queueKeys } from '../../src/admission/keys';
import { catalogKeys } from '../../src/catalog/keys';
import { checkoutKeys } from '../../src/checkout/checkout-store';
import { holdIndexKeys, zoneKeys } from '../../src/inventory/keys';
import { paymentKeys } from '../../src/payment/keys';

/*
 * Redis Cluster runs a multi-key command or script only when all its keys are in one slot. The
 * key families that one script or MULTI touches together must therefore share a slot, whatever
 * the ids (braces or colons in them included). The slot function is the one ioredis routes with.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- ioredis's own slot function (CommonJS, no types)
const slotOf = require('cluster-key-slot') as (key: string) => number;

const slots = (keys: string[]) => new Set(keys.map(slotOf));
const ids = ['Event1', 'a:b', 'x{y}z', '{odd', 'e.1-2_3'];

test.each(ids.flatMap((e) => ids.map((z) => [e, z])))('every key of zone %s/%s is in one slot', (eventId, zoneId) => {
  const k = zoneKeys('tp:', eventId, zoneId);
  const keys = [
    k.bits,
    k.counts,
    k.meta,
    k.pending,
    k.cancelling,
    k.held,
    k.heldUntil,
    k.purchase('p:1'),
    k.hold('h{2}'),
    `${k.meta}:wait`,
  ];
  expect(slots(keys).size).toBe(1);
});

test('zones spread over slots (one zone, one slot; not one slot for everything)', () => {
  const many = Array.from({ length: 100 }, (_, i) => zoneKeys('tp:', 'Event1', String(i + 1)).bits);
  expect(slots(many).size).toBeGreaterThan(90);
});

test('the catalog, the hold index, a payment and a checkout each stay in one slot', () => {
  expect(slots(Object.values(catalogKeys('tp:'))).size).toBe(1);
  expect(slots(Object.values(holdIndexKeys('tp:'))).size).toBe(1);
  for (const id of ids) {
    expect(slots(Object.values(paymentKeys('tp:', id))).size).toBe(1);
    expect(slots(Object.values(checkoutKeys('tp:', id))).size).toBe(1);
  }
});

test("every key of an event's waiting room is in one slot (the queue scripts take all eight), and events spread", () => {
  for (const id of ['Event1', 'DemoNightQueued', 'e.1-2_3', 'a_b']) expect(slots(queueKeyList(queueKeys('tp:', id))).size).toBe(1);
  const many = Array.from({ length: 100 }, (_, i) => queueKeys('tp:', `E${i}`).wait);
  expect(slots(many).size).toBeGreaterThan(90);
});
