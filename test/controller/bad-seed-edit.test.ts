import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { deletePrefix, eventResource, testPrefix, venueResource } from './support/cluster';
import { forgetEvents } from './support/stores';

/**
 * Issue 11 item 2: with the file source, a broken edit of a seed file must not take an event
 * off sale. The last good version stays in force, and the problem shows as the Degraded
 * condition of the event's `status` on GET /api/v1/events/{eventId}, until the file is fixed.
 */
describe('file source: a bad seed edit keeps the last good version and is reported', () => {
  let dir: string;
  let prefix: string;
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  const eventId = uid('EvEdit');
  const venueId = uid('VEdit');
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  const good = (spec: Record<string, unknown> = {}) => doc(eventResource('show', eventId, 'hall', spec));
  const write = (file: string, text: string) => writeFile(path.join(dir, file), text);
  let column = 0;
  // The next free seat of the 10; only a sale uses one up (the first sale is retried until the event is on sale).
  const buy = async () => {
    const answer = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
      userId: uid('fan'),
      zoneId: 'a',
      seats: [{ row: column < 5 ? 'A' : 'B', column: (column % 5) + 1 }],
    });
    if (answer.status === 201) column++;
    return answer;
  };
  const event = async () => (await http(platform.url, 'GET', `/api/v1/events/${eventId}`)).body;
  const degraded = async () => (await event())?.status?.conditions?.find((c: { type: string }) => c.type === 'Degraded');
  const startPlatform = () => startTestPlatform(['controller', 'writer', 'api'], { SEEDS_DIR: dir, REDIS_KEY_PREFIX: prefix });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'seeds-edit-'));
    prefix = testPrefix();
    await write('hall.yaml', doc(venueResource('hall', venueId)));
    await write('show.yaml', good());
    platform = await startPlatform();
  });

  afterAll(async () => {
    await forgetEvents(platform.ctx, [{ eventId, venueId, zoneIds: ['a'] }]);
    await deletePrefix(platform.ctx.redis, prefix);
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits for the Degraded condition the controller reports, then proves the event still sells. */
  async function expectStillOnSale(reason: string | string[], message: RegExp) {
    const reasons = [reason].flat();
    // The controller has read the edit once it reports it, or once the event left the catalog.
    const seen = await waitFor(
      async () => {
        const r = await http(platform.url, 'GET', `/api/v1/events/${eventId}`);
        const c = r.body?.status?.conditions?.find((x: { type: string }) => x.type === 'Degraded');
        return r.status === 404 || (c?.status === 'True' && reasons.includes(c.reason)) ? r : undefined;
      },
      `the controller to read the edit (Degraded ${reasons.join(' or ')})`,
      10000,
      100,
    );
    expect(seen.status).toBe(200);
    const sold = await buy();
    expect(sold.status).toBe(201);
    expect(await event()).toMatchObject({ eventId, state: 'OnSale', perUserLimit: 4 });
    expect((await degraded()).message).toMatch(message);
  }

  test('sells, and reports Healthy, before any bad edit', async () => {
    await waitFor(async () => (await buy()).status === 201, 'a first sale', 10000, 100);
    // The status is written at the end of the reconcile that seeded the zones (after the event's
    // DynamoDB tables exist), so a first sale can come before it.
    const healthy = await waitFor(
      async () => (await degraded())?.reason === 'Healthy' && (await degraded()),
      'the Healthy condition',
      10000,
      100,
    );
    expect(healthy).toMatchObject({ status: 'False', reason: 'Healthy' });
  });

  test('invalid YAML: the file counts as unchanged; the error is on the event; fixing it clears it', async () => {
    await write('show.yaml', `${good().replace('perUserLimit: 4', 'perUserLimit: [4')}\n`);
    await expectStillOnSale('InvalidYaml', /show\.yaml is not valid YAML/);
    await write('show.yaml', good({ perUserLimit: 6 }));
    // (The api caches the catalog for a second: the new limit shows at most that much later.)
    await waitFor(
      async () => (await degraded())?.status === 'False' && (await event()).perUserLimit === 6,
      'Degraded cleared, the fixed file applied',
      10000,
      100,
    );
    await write('show.yaml', good());
    await waitFor(async () => (await event()).perUserLimit === 4, 'back to the first version', 10000, 100);
  });

  test('a value the schema refuses: the last good version of the resource stays in force', async () => {
    await write('show.yaml', good({ perUserLimit: 500 }));
    await expectStillOnSale('InvalidSpec', /perUserLimit/);
    await write('show.yaml', good());
    await waitFor(async () => (await degraded())?.status === 'False', 'Degraded cleared', 10000, 100);
  });

  test('a half-written file (a non-atomic editor) and an emptied one are handled the same way', async () => {
    const full = good({ perUserLimit: 3 });
    // The editor truncated the file and has written the first half so far.
    await write('show.yaml', full.slice(0, Math.floor(full.length / 2)));
    // Cut anywhere: not YAML yet, or YAML the schema refuses (fields missing).
    await expectStillOnSale(['InvalidYaml', 'InvalidSpec'], /show\.yaml/);
    await write('show.yaml', '');
    await expectStillOnSale('FileEmpty', /show\.yaml is empty/);
    await write('show.yaml', full);
    await waitFor(
      async () => (await event()).perUserLimit === 3 && (await degraded())?.status === 'False',
      'the complete file applied',
      10000,
      100,
    );
    await write('show.yaml', good());
    await waitFor(async () => (await event()).perUserLimit === 4, 'back to the first version', 10000, 100);
  });

  test("a broken Venue file shows on its events, which go on selling on the Venue's last good version", async () => {
    await write('hall.yaml', doc(venueResource('hall', venueId, [{ zoneId: 'a', rows: ['A', 'B'], seatsPerRow: 0 }])));
    await expectStillOnSale('InvalidSpec', /hall\.yaml.*Venue hall.*seatsPerRow/);
    await write('hall.yaml', doc(venueResource('hall', venueId)));
    await waitFor(async () => (await degraded())?.status === 'False', 'Degraded cleared', 10000, 100);
  });

  test('a controller restarted while the file is broken keeps the event on sale (no last good version in memory)', async () => {
    await write('show.yaml', good({ perUserLimit: 500 }));
    await expectStillOnSale('InvalidSpec', /perUserLimit/);
    await platform.stop();
    platform = await startPlatform();
    // Nothing in memory: the catalog entry is what was last good, and it is kept.
    await expectStillOnSale('InvalidSpec', /perUserLimit/);
    await write('show.yaml', good());
    await waitFor(async () => (await degraded())?.status === 'False', 'Degraded cleared', 10000, 100);
    expect((await buy()).status).toBe(201);
  });
});
