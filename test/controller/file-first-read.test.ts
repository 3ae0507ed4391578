import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CatalogStore } from '../../src/catalog/store';
import { startFileController, type FileControllerHandle } from '../../src/controller/file-controller';
import type { ReconcileDeps } from '../../src/controller/reconcile';
import { Inventory } from '../../src/inventory/inventory';
import { testConfig, testLogger, uid, waitFor } from '../support/env';
import { testRedis } from '../support/platform';
import { deletePrefix, eventResource, testPrefix, venueResource } from './support/cluster';

/**
 * A controller's term starts with nothing in memory (a restart, a failover). A seed file an
 * editor is rewriting at that moment can be cut between its YAML documents: still valid YAML,
 * with the Event document missing. Read at once, that would remove the event. The first read
 * waits until the file has settled, like every later one, and removes nothing meanwhile.
 */
const SETTLE_MS = 4000;
const redis = testRedis();
const prefix = testPrefix();
const deps: ReconcileDeps = {
  catalog: new CatalogStore(redis, prefix),
  inventory: new Inventory(redis, prefix),
  log: testLogger('reconcile'),
};
let dir: string;
let controller: FileControllerHandle | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seeds-first-read-'));
});
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
const start = () =>
  startFileController(
    { cfg: testConfig({ SEEDS_DIR: dir, REDIS_KEY_PREFIX: prefix }), log: testLogger('controller') },
    { deps, settleMs: SETTLE_MS },
  );

/** One file, two documents: the Venue, then the Event. An editor rewriting it writes the Venue first. */
async function seedFile(eventId: string, perUserLimit = 4) {
  const venueId = uid('VFirst');
  const name = eventId.toLowerCase();
  const venue = doc(venueResource(`hall-${name}`, venueId));
  const full = `${venue}---\n${doc(eventResource(`show-${name}`, eventId, `hall-${name}`, { perUserLimit }))}`;
  const file = path.join(dir, 'show.yaml');
  await writeFile(file, full);
  // Written long ago: settled.
  const old = new Date(Date.now() - 3600_000);
  await utimes(file, old, old);
  return { file, venue, full };
}

/** The first term sells the event; then the term ends, as on a restart or failover. */
async function sellingThenTermEnds(eventId: string) {
  const seeded = await seedFile(eventId);
  controller = await start();
  expect(await deps.catalog.getEvent(eventId)).toMatchObject({ event: { eventId, state: 'OnSale' } });
  const entry = await deps.catalog.getEvent(eventId);
  await controller.stop();
  controller = undefined;
  return { ...seeded, entry };
}

test('a term starting while the file is cut after its first document keeps the event on sale; the restored file applies once settled', async () => {
  const eventId = uid('EvCut');
  const { file, venue, entry } = await sellingThenTermEnds(eventId);

  // The editor truncated the file and has written the Venue so far; the next term starts now.
  await writeFile(file, venue);
  const cutAt = Date.now();
  controller = await start();
  expect(Date.now() - cutAt).toBeLessThan(SETTLE_MS); // the premise: the first read saw an unsettled file
  expect(await deps.catalog.getEvent(eventId)).toEqual(entry);
  expect(await deps.inventory.zoneExists(eventId, 'a')).toBe(true);

  // The editor finishes (with a change), and the controller applies it once it settled.
  await writeFile(
    file,
    `${venue}---\n${doc(eventResource(`show-${eventId.toLowerCase()}`, eventId, `hall-${eventId.toLowerCase()}`, { perUserLimit: 6 }))}`,
  );
  await waitFor(
    async () => (await deps.catalog.getEvent(eventId))?.event.perUserLimit === 6,
    'the finished file applied',
    SETTLE_MS * 4,
    100,
  );
  expect(await deps.catalog.getEvent(eventId)).toMatchObject({ event: { state: 'OnSale' } });
  expect(await deps.inventory.zoneExists(eventId, 'a')).toBe(true);
});

test('a file that stays cut is the new desired state once it settled: the event is removed then, not before', async () => {
  const eventId = uid('EvGone');
  const { file, venue, entry } = await sellingThenTermEnds(eventId);

  await writeFile(file, venue);
  const cutAt = Date.now();
  controller = await start();
  expect(Date.now() - cutAt).toBeLessThan(SETTLE_MS);
  expect(await deps.catalog.getEvent(eventId)).toEqual(entry);

  await waitFor(async () => !(await deps.catalog.getEvent(eventId)), 'the event removed once the file settled', SETTLE_MS * 4, 100);
  expect(Date.now() - cutAt).toBeGreaterThanOrEqual(SETTLE_MS);
  // The catalog entry goes first; its zones follow in the same removal (not at the same instant).
  await waitFor(async () => !(await deps.inventory.zoneExists(eventId, 'a')), "the event's zone removed too", SETTLE_MS * 4, 100);
});
