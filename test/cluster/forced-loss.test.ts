import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CqrsStores } from '../../src/admin/stores';
import { zoneKeys } from '../../src/inventory/keys';
import { dynamoSeats, mysqlSeats, seatKey, sortedEntries, type SeatMap } from '../cqrs/support';
import { forgetEvents } from '../controller/support/stores';
import { eventResource, venueResource } from '../controller/support/cluster';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { startPrivateCluster, type PrivateCluster } from '../support/private-cluster';

/**
 * The failover fence against a real loss (issue 14): a private Redis Cluster whose replica is
 * frozen (SIGSTOP) while its master sells, so the replica really misses writes Kafka already
 * acknowledged; then the master is SIGKILLed and the stale replica takes over. Without the fence
 * the lost seats would be sold a second time; with it the zone answers 503 INVENTORY_REBUILDING
 * until the controller has re-marked it from DynamoDB and the Kafka tail, and then 409.
 */
const ROWS = ['A', 'B', 'C', 'D'];
const SEATS = 10;
const ZONES = ['z0', 'z1', 'z2', 'z3', 'z4', 'z5'];
const eventId = uid('Fence');
const venueId = uid('FV');
let cluster: PrivateCluster;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let dir: string;

beforeAll(async () => {
  cluster = await startPrivateCluster({ redisNodeTimeoutMs: 2000 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fence-seeds-'));
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  await writeFile(
    path.join(dir, 'hall.yaml'),
    doc(
      venueResource(
        'hall',
        venueId,
        ZONES.map((zoneId) => ({ zoneId, rows: ROWS, seatsPerRow: SEATS })),
      ),
    ),
  );
  await writeFile(path.join(dir, 'show.yaml'), doc(eventResource('show', eventId, 'hall', { perUserLimit: 100 })));
  platform = await startTestPlatform(['controller', 'writer', 'projector', 'api'], {
    SEEDS_DIR: dir,
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    PURCHASE_TIMEOUT_MS: '2000',
    FENCE_CHECK_INTERVAL_MS: '200',
  });
  await waitFor(async () => (await buyRecorded('warmup', ZONES[0]!, 'D', SEATS)).status === 201, 'the event on sale', 60_000, 250);
}, 180_000);

afterAll(async () => {
  await forgetEvents(platform.ctx, [{ eventId, venueId, zoneIds: ZONES }]).catch(() => undefined);
  await platform?.stop();
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

function buyAs(userId: string, zoneId: string, row: string, column: number) {
  return http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, { userId, zoneId, seats: [{ row, column }] });
}

/** Every 201 of the test, seat → ticket: a second 201 for a seat fails the test at once. */
const sold: SeatMap = new Map();
async function buyRecorded(userId: string, zoneId: string, row: string, column: number) {
  const r = await buyAs(userId, zoneId, row, column);
  if (r.status === 201) {
    const k = seatKey(zoneId, row, column);
    if (sold.has(k)) throw new Error(`seat ${k} got a second 201: ${sold.get(k)} and ${r.body.tickets[0].ticketId}`);
    sold.set(k, r.body.tickets[0].ticketId as string);
  }
  return r;
}

test('a replica that missed acknowledged sales takes over: the lost seats are never sold twice', async () => {
  const zoneId = ZONES[1]!;
  const meta = zoneKeys(platform.cfg.REDIS_KEY_PREFIX, eventId, zoneId).meta;
  const master = await cluster.masterOf(meta);
  const [replica] = await cluster.replicasOf(master);
  expect(replica).toBeDefined();

  // Row A is sold and replicated; then the replica freezes and row B is sold on the master alone.
  for (let c = 1; c <= SEATS; c++) expect((await buyRecorded('early', zoneId, 'A', c)).status).toBe(201);
  await waitFor(async () => (await cluster.replicasOf(master)).length > 0, 'the replica in sync');
  await cluster.kill(replica!, 'SIGSTOP');
  const lost: string[] = [];
  for (let c = 1; c <= SEATS; c++) {
    expect((await buyRecorded('told-yes', zoneId, 'B', c)).status).toBe(201);
    lost.push(`B${c}`);
  }
  // Kafka holds them; the writer puts them into DynamoDB (the truth) whatever Redis does next.
  const stores = new CqrsStores(platform.ctx);
  await waitFor(async () => (await dynamoSeats(stores, eventId, [zoneId])).size >= 2 * SEATS, 'DynamoDB to hold rows A and B');

  await cluster.kill(master, 'SIGKILL');
  await cluster.kill(replica!, 'SIGCONT');
  await cluster.waitReady(60_000);
  expect(await cluster.masterOf(meta)).toBe(replica);

  // The lost seats, asked for again and again by another buyer: never a 201.
  const answers = new Map<number, number>();
  await waitFor(
    async () => {
      const rs = await Promise.all(lost.map((s) => buyRecorded('second', zoneId, s[0]!, Number(s.slice(1)))));
      for (const r of rs) answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
      for (const r of rs) if (r.status === 201) throw new Error(`a lost seat was sold twice: ${JSON.stringify(r.body)}`);
      return rs.every((r) => r.status === 409 && r.body.code === 'SEATS_TAKEN');
    },
    'the re-marked zone to refuse the lost seats with 409',
    60_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; answers ${JSON.stringify([...answers])}`);
  });
  // The fence was up in between: the promoted replica's zone was refused, not trusted.
  expect(answers.get(503) ?? 0).toBeGreaterThan(0);

  // Sales resume on the zone's free seats; every other zone sells too.
  expect((await buyRecorded('after', zoneId, 'C', 1)).status).toBe(201);
  for (const z of ZONES.filter((z) => z !== zoneId))
    await waitFor(
      async () => (await buyRecorded(`after-${z}`, z, 'C', 1)).status === 201,
      `zone ${z} selling after the failover`,
      30_000,
      200,
    );

  // A sweep asking for every seat sells exactly the ones left; then the stores hold every 201.
  for (const z of ZONES)
    for (const row of ROWS)
      for (let c = 1; c <= SEATS; c++) {
        const r = await buyRecorded(`sweep-${z}-${row}${c}`, z, row, c);
        expect([201, 409]).toContain(r.status);
      }
  expect(sold.size).toBe(ZONES.length * ROWS.length * SEATS);
  await waitFor(async () => (await dynamoSeats(stores, eventId, ZONES)).size === sold.size, 'DynamoDB to hold every sale', 60_000);
  const dynamo = await dynamoSeats(stores, eventId, ZONES);
  expect(sortedEntries(dynamo)).toEqual(sortedEntries(sold));
  await waitFor(async () => (await mysqlSeats(stores, eventId)).size === sold.size, 'MySQL to hold every sale', 60_000);
  expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(dynamo));

  // Counters equal the popcount in every zone: sold out, 0 available.
  for (const z of ZONES) {
    const st = await stores.inventory.zoneState(eventId, z);
    expect(st?.available).toBe(0);
  }
}, 240_000);
