import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ZoneFence } from '../../src/inventory/fence';
import { FenceStatusCode } from '../../src/commands/scripts';
import { eventResource, venueResource } from '../controller/support/cluster';
import { forgetEvents } from '../controller/support/stores';
import { uid, waitFor } from '../support/env';
import { http, startTestPlatform } from '../support/platform';
import { freePort } from '../support/process';
import { dynamoSeats, seatKey, sortedEntries, testStores, type SeatMap } from './support';

/**
 * A standalone Redis (AOF, as the single topology runs it) is SIGKILLed and restarted under a
 * live platform. Its replication id changes with the restart, so every zone is fenced: holds and
 * sales answer 503 INVENTORY_REBUILDING until the controller has re-marked the zone from
 * DynamoDB and the Kafka tail; then sales resume, and no seat is ever sold twice.
 */
const ROWS = ['A', 'B'];
const SEATS = 10;
const eventId = uid('Rst');
const venueId = uid('RV');
let port: number;
let dir: string;
let redis: ChildProcess | undefined;

function startRedis(): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    { stdio: 'ignore' },
  );
}

beforeAll(async () => {
  port = await freePort();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tp-restart-'));
  redis = startRedis();
});
afterAll(() => {
  redis?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('after a restart the zones are fenced, re-marked from the truth, then sell again; nothing is sold twice', async () => {
  const seeds = path.join(dir, 'seeds');
  await mkdir(seeds);
  const doc = (r: { metadata: Record<string, unknown> }) => stringify({ ...r, metadata: { name: r.metadata.name } });
  await writeFile(path.join(seeds, 'hall.yaml'), doc(venueResource('hall', venueId, [{ zoneId: 'z', rows: ROWS, seatsPerRow: SEATS }])));
  await writeFile(path.join(seeds, 'show.yaml'), doc(eventResource('show', eventId, 'hall', { perUserLimit: 100 })));
  const platform = await startTestPlatform(['controller', 'writer', 'projector', 'api'], {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    SEEDS_DIR: seeds,
    PURCHASE_TIMEOUT_MS: '1500',
    FENCE_CHECK_INTERVAL_MS: '200',
  });
  const stores = testStores(platform.cfg);
  const sold: SeatMap = new Map();
  const buy = async (row: string, column: number) => {
    const r = await http(platform.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
      userId: `b-${row}${column}-${sold.size}`,
      zoneId: 'z',
      seats: [{ row, column }],
    });
    if (r.status === 201) {
      const k = seatKey('z', row, column);
      if (sold.has(k)) throw new Error(`${k} sold twice`);
      sold.set(k, r.body.tickets[0].ticketId as string);
    }
    return r;
  };
  try {
    let last: unknown;
    await waitFor(async () => ((last = (await buy('A', 1)).body), sold.size === 1), 'the event on sale', 60_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}`);
    });
    for (let c = 2; c <= SEATS; c++) expect((await buy('A', c)).status).toBe(201);

    redis!.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    redis = startRedis();

    const fence = new ZoneFence(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
    const answers = new Map<string, number>();
    // Row A again and row B: row A is refused (503 while fenced, then 409), row B sells once unfenced.
    await waitFor(
      async () => {
        const r = await buy('B', 1);
        const code = `${r.status} ${r.body?.code ?? ''}`;
        answers.set(code, (answers.get(code) ?? 0) + 1);
        return r.status === 201;
      },
      'sales to resume after the restart',
      60_000,
      100,
    );
    expect([...answers.keys()].some((a) => a.startsWith('503'))).toBe(true);
    expect((await fence.status(eventId, 'z')).code).toBe(FenceStatusCode.TRUSTED);
    for (let c = 1; c <= SEATS; c++) expect((await buy('A', c)).body.code).toBe('SEATS_TAKEN');
    for (let c = 2; c <= SEATS; c++) expect((await buy('B', c)).status).toBe(201);

    await waitFor(async () => (await dynamoSeats(stores, eventId, ['z'])).size === sold.size, 'DynamoDB to hold every sale', 30_000);
    expect(sortedEntries(await dynamoSeats(stores, eventId, ['z']))).toEqual(sortedEntries(sold));
    const st = await stores.inventory.zoneState(eventId, 'z');
    expect(st?.available).toBe(0);
  } finally {
    await forgetEvents(platform.ctx, [{ eventId, venueId, zoneIds: ['z'] }]).catch(() => undefined);
    await platform.stop();
    await stores.closeAll();
  }
}, 180_000);
