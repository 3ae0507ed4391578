import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { auditEvent } from '../../src/admin/audit';
import { ZoneLayout } from '../../src/inventory/layout';
import { loadCatalogEntry } from '../../src/projector/catalog-sql';
import { migrate } from '../../src/projector/migrations';
import { uid, waitFor } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { freePort } from '../support/process';
import { buy, dynamoSeats, mysqlSeats, seatGroups, sortedEntries, testStores, type SeatMap } from './support';

const ROWS = 'ABCDEFGHIJ'.split('');
const SEATS = 20;

/** The zone bitmap a seat → ticket map implies, in Redis bit order (MSB first), trimmed to capacity. */
function bitmapOf(sold: SeatMap, zoneId: string, layout: ZoneLayout): Buffer {
  const bits = Buffer.alloc(Math.ceil(layout.capacity / 8));
  for (const seat of sold.keys()) {
    const m = /^(.+)\/([A-Z]+)-(\d+)$/.exec(seat)!;
    if (m[1] !== zoneId) continue;
    const { offset } = layout.locate(m[2]!, Number(m[3]))!;
    bits[offset >> 3]! |= 0x80 >> (offset & 7);
  }
  return bits;
}

/**
 * Redis loses its state in the middle of a sale (FLUSHALL of a private redis-server): the
 * controller rebuilds every zone from DynamoDB, bit for bit, and no seat is sold twice across
 * the loss.
 */
describe('Redis state lost mid-sale', () => {
  let redisProc: ChildProcess;
  let redisUrl: string;
  let seedsDir: string;

  beforeAll(async () => {
    const port = await freePort();
    redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    redisUrl = `redis://127.0.0.1:${port}`;
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await waitFor(
      async () =>
        (await probe
          .connect()
          .then(() => probe.ping())
          .catch(() => (probe.disconnect(), undefined))) === 'PONG',
      'the private redis-server',
      10000,
      100,
    );
    probe.disconnect();
    seedsDir = mkdtempSync(path.join(os.tmpdir(), 'tp-seeds-'));
  });
  afterAll(() => {
    redisProc?.kill('SIGKILL');
    if (seedsDir) rmSync(seedsDir, { recursive: true, force: true });
  });

  test('the controller rebuilds the lost zones from DynamoDB bit for bit; no seat is sold twice', async () => {
    const eventId = uid('Loss');
    const venue = eventId.toLowerCase();
    const zones = ['1', '2'];
    writeFileSync(
      path.join(seedsDir, 'event.yaml'),
      [
        'apiVersion: ticketing.dev/v1alpha1',
        'kind: Venue',
        `metadata: { name: v${venue} }`,
        'spec:',
        `  venueId: V${eventId}`,
        '  name: Loss Hall',
        '  zones:',
        ...zones.flatMap((z) => [
          `    - zoneId: "${z}"`,
          `      name: Zone ${z}`,
          `      rows: [${ROWS.join(', ')}]`,
          `      seatsPerRow: ${SEATS}`,
          '      priceCents: 1000',
        ]),
        '---',
        'apiVersion: ticketing.dev/v1alpha1',
        'kind: Event',
        `metadata: { name: e${venue} }`,
        'spec:',
        `  eventId: ${eventId}`,
        `  venueRef: { name: v${venue} }`,
        '  name: Loss Night',
        '  startsAt: "2030-01-01T19:00:00Z"',
        '  state: OnSale',
        '  perUserLimit: 10',
        '',
      ].join('\n'),
    );
    const platform = await startTestPlatform(['controller', 'api', 'writer', 'projector'], {
      REDIS_URL: redisUrl,
      SEEDS_DIR: seedsDir,
      PURCHASE_TIMEOUT_MS: '2000',
    });
    const stores = testStores(platform.cfg);
    const layout = ZoneLayout.of({ rows: ROWS, seatCounts: ROWS.map(() => SEATS) });
    const liveBits = async (zoneId: string) =>
      ((await stores.ctx.redis.getBuffer(stores.inventory.keys(eventId, zoneId).bits)) ?? Buffer.alloc(0)).subarray(
        0,
        Math.ceil(layout.capacity / 8),
      );
    try {
      // The controller mirrored the catalog into MySQL (migrations are idempotent: none left to apply).
      expect(await migrate(stores.ctx.mysql)).toEqual([]);
      // The mirror is written on the controller's reconcile, which may come a moment after start.
      await waitFor(async () => loadCatalogEntry(stores.ctx.mysql, eventId), 'the catalog mirrored into MySQL', 30_000);
      expect(await loadCatalogEntry(stores.ctx.mysql, eventId)).toEqual(await stores.catalog.getEvent(eventId));

      const groups = zones.flatMap((z) => seatGroups(z, ROWS, SEATS, 3)).sort(() => Math.random() - 0.5); // both zones in every phase
      const [p1, p2, p3] = [groups.slice(0, 100), groups.slice(100, 160), groups.slice(160)];

      // Phase 1: a sale, all answered; the bitmap then is exactly the 201 answers.
      const phase1 = await buy(platform.url, eventId, p1, 16);
      for (const z of zones) expect((await liveBits(z)).equals(bitmapOf(phase1.seats, z, layout))).toBe(true);

      // Phase 2: Redis loses everything while purchases are in flight.
      let flushed = false;
      const phase2 = await buy(platform.url, eventId, p2, 4, async (n) => {
        if (n >= 15 && !flushed) {
          flushed = true;
          await stores.ctx.redis.flushall(); // three other purchases are in flight right now
        }
      });
      expect(flushed).toBe(true);
      expect(phase2.statuses.get(503) ?? 0).toBeGreaterThan(0); // purchases after the loss: INVENTORY_REBUILDING
      const sold2 = phase2.seats;
      const before = new Map([...phase1.seats, ...sold2]);
      for (const seat of sold2.keys()) expect(phase1.seats.has(seat)).toBe(false);

      // The controller notices, waits for the writer and the settle time, and rebuilds from DynamoDB.
      await waitFor(
        async () => (await Promise.all(zones.map((z) => stores.inventory.zoneExists(eventId, z)))).every(Boolean),
        'the zones to be rebuilt',
        30000,
        100,
      );
      for (const z of zones) expect((await liveBits(z)).equals(bitmapOf(before, z, layout))).toBe(true);

      // Phase 3: selling again, every seat sold before the loss is refused, the rest sells once.
      const soldBefore = [...before.keys()].filter((_, i) => i % 4 === 0 || sold2.has([...before.keys()][i]!));
      const again = soldBefore.map((seat) => {
        const m = /^(.+)\/([A-Z]+)-(\d+)$/.exec(seat)!;
        return { zoneId: m[1]!, seats: [{ row: m[2]!, column: Number(m[3]) }] };
      });
      const resold = await buy(platform.url, eventId, again, 8);
      expect(resold.seats.size).toBe(0);
      expect(resold.statuses.get(409)).toBe(again.length);
      const phase3 = await buy(platform.url, eventId, [...p3, ...p2], 16);
      const all = new Map([...before, ...phase3.seats]);
      expect(all.size).toBe(before.size + phase3.seats.size); // no seat in two 201 answers
      expect(all.size).toBe(zones.length * ROWS.length * SEATS);

      await waitFor(
        async () => (await stores.waitForGroup('writer', 0)) === 0 && (await stores.waitForGroup('projector', 0)) === 0,
        'the consumers to catch up',
        30000,
        200,
      );
      expect(sortedEntries(await dynamoSeats(stores, eventId, zones))).toEqual(sortedEntries(all));
      expect(sortedEntries(await mysqlSeats(stores, eventId))).toEqual(sortedEntries(all));
      const report = await auditEvent(stores, eventId, { waitMs: 5000 });
      expect(report).toMatchObject({ drift: [], unverified: [], missingZones: [] });
    } finally {
      await stores.writeModel.dropEvent(eventId).catch(() => undefined);
      await stores.readModel.deleteEvent(eventId).catch(() => undefined);
      await stores.closeAll();
      await platform.stop();
    }
  }, 60000);
});
