import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { FenceStatusCode } from '../../src/commands/scripts';
import { ZoneFence } from '../../src/inventory/fence';
import { zoneKeys } from '../../src/inventory/keys';
import { eventResource, venueResource } from '../controller/support/cluster';
import { forgetEvents } from '../controller/support/stores';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { dynamoSeats, seatKey, testStores } from './support';

/**
 * A failover that lost a cancellation's release and the resale after it (issue 14, the
 * re-mark's known gap 2). On the lost node: A bought A1, cancelled (durable in the log, seats
 * freed), B bought A1. The new node has neither the release nor B's reservation: A1 is taken
 * and A's record still says CANCELLING. The re-mark marks A1 sold (B, in DynamoDB); replaying
 * A's release after the unfence would free B's seat for a third buyer. The re-mark settles A's
 * record against DynamoDB instead, and release-cancelled.lua refuses while the zone is fenced.
 * The lost writes are simulated on the platform's own keys; everything else is the real path.
 */
const eventId = uid('RmC');
const venueId = uid('RmV');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tp-remark-cancel-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a cancellation whose release was lost with the resale after it is settled by the re-mark: the resale keeps the seat', async () => {
  const seeds = path.join(dir, 'seeds');
  await mkdir(seeds);
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  await writeFile(path.join(seeds, 'hall.yaml'), doc(venueResource('hall', venueId, [{ zoneId: 'z', rows: ['A'], seatsPerRow: 4 }])));
  await writeFile(path.join(seeds, 'show.yaml'), doc(eventResource('show', eventId, 'hall', { perUserLimit: 10 })));
  // The cancel sweep re-tries a CANCELLING record after PENDING_RESEND_AFTER_MS (30 s): after the re-mark.
  const platform = await startTestPlatform(['controller', 'writer', 'projector', 'api'], {
    SEEDS_DIR: seeds,
    PURCHASE_TIMEOUT_MS: '1500',
    FENCE_CHECK_INTERVAL_MS: '200',
  });
  const stores = testStores(platform.cfg);
  const redis = platform.ctx.redis;
  const k = zoneKeys(platform.cfg.REDIS_KEY_PREFIX, eventId, 'z');
  const buy = (userId: string) =>
    http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId, zoneId: 'z', seats: [{ row: 'A', column: 1 }] });
  try {
    const a = await waitFor(
      async () => ((r) => (r.status === 201 ? r : undefined))(await buy('buyer-a')),
      'the event on sale',
      60_000,
      200,
    );
    const cancelled = await http(platform.url, 'POST', `/api/v1/purchases/${a.body.purchaseId}/cancel`, { userId: 'buyer-a' });
    expect(cancelled.status).toBe(200);
    const b = await buy('buyer-b');
    expect(b.status).toBe(201);
    const ticketOfB = b.body.tickets[0].ticketId as string;
    await waitFor(
      async () => (await dynamoSeats(stores, eventId, ['z'])).get(seatKey('z', 'A', 1)) === ticketOfB,
      'DynamoDB to show A1 sold to B (after A’s cancellation)',
      30_000,
    );

    // The failover: B's reservation and A's release never reached the new node (A1 stays taken
    // by A's sale; B's record is absent), and the zone's state is from another history.
    await redis.unlink(k.purchase(b.body.purchaseId as string));
    await redis.zrem(k.pending, b.body.purchaseId as string);
    await redis.hset(k.purchase(a.body.purchaseId as string), 'cancel', 'cancelling');
    await redis.hdel(k.purchase(a.body.purchaseId as string), 'cancelledAt');
    await redis.persist(k.purchase(a.body.purchaseId as string));
    await redis.zadd(k.cancelling, Date.now(), a.body.purchaseId as string);
    await redis.hset(k.meta, 'replid', 'a-history-this-node-does-not-have');

    // The re-mark (or, without it, the sweep 30 s later) settles A's record; the zone sells again.
    const fence = new ZoneFence(redis, platform.cfg.REDIS_KEY_PREFIX);
    await waitFor(
      async () =>
        (await redis.hget(k.purchase(a.body.purchaseId as string), 'cancel')) === 'cancelled' &&
        (await fence.status(eventId, 'z')).code === FenceStatusCode.TRUSTED,
      'A’s cancellation settled and the zone re-marked',
      90_000,
      200,
    );
    const third = await buy('buyer-c');
    expect({ status: third.status, code: third.body?.code }).toEqual({ status: 409, code: 'SEATS_TAKEN' });
    expect((await dynamoSeats(stores, eventId, ['z'])).get(seatKey('z', 'A', 1))).toBe(ticketOfB);
  } finally {
    await forgetEvents(platform.ctx, [{ eventId, venueId, zoneIds: ['z'] }]).catch(() => undefined);
    await platform.stop();
    await stores.closeAll();
  }
}, 180_000);
