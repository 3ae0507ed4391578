import nodeHttp from 'node:http';
import { metrics } from '../../src/observability/metrics';
import { zoneKeys } from '../../src/inventory/keys';
import { ZoneLayout } from '../../src/catalog/layout';
import { seatStreamSnapshotSchema, seatChangeSchema } from '../../src/http/schemas';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid, waitFor } from '../support/env';
import { dropKeyPrefix, http, startTestPlatform, testRedis } from '../support/platform';
import { SseClient } from '../support/sse';

/**
 * The zone change stream (docs/live-seat-map.md) against real Redis and Kafka, with two api
 * processes on the same Redis key prefix and topics: every change in order without a seq gap,
 * resuming with Last-Event-ID, the same picture on both processes, slow viewers dropped.
 */

type Platform = Awaited<ReturnType<typeof startTestPlatform>>;
let a: Platform;
let b: Platform;
const eventId = uid('Live');
const prefix = `tp:${uid('t')}:`;
const ROWS = 'ABCDEFGHIJ'.split('');
const BIG = { rows: Array.from({ length: 200 }, (_, i) => `R${i + 1}`), seatCounts: Array.from({ length: 200 }, () => 250) };
const layout = new ZoneLayout(
  ROWS,
  ROWS.map(() => 20),
);
const clients: SseClient[] = [];

beforeAll(async () => {
  const shared = { REDIS_KEY_PREFIX: prefix, KAFKA_TOPIC_PREFIX: uid('test.'), LIVE_MAX_BUFFER_BYTES: '262144' };
  a = await startTestPlatform(['api'], shared);
  b = await startTestPlatform(['api'], shared);
  const entry = testEntry({
    eventId,
    perUserLimit: 1000,
    zones: [
      { zoneId: 'a', rows: ROWS, seatCounts: ROWS.map(() => 20) },
      { zoneId: 'big', ...BIG },
    ],
  });
  await seedTestEvent(a.ctx.redis, prefix, entry);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await a?.stop();
  await b?.stop();
  const redis = testRedis();
  await dropKeyPrefix(redis, prefix);
  redis.disconnect();
});

const streamUrl = (p: Platform, zoneId = 'a') => `${p.url}/api/v1/events/${eventId}/zones/${zoneId}/seats/stream`;

async function viewer(p: Platform, headers: Record<string, string> = {}, zoneId = 'a'): Promise<SseClient> {
  const c = await SseClient.open(streamUrl(p, zoneId), headers);
  clients.push(c);
  return c;
}

let user = 0;
async function buy(p: Platform, row: string, column: number) {
  const res = await http(p.url, 'POST', `/api/v1/events/${eventId}/purchases`, {
    userId: `u${user++}`,
    zoneId: 'a',
    seats: [{ row, column }],
  });
  expect([res.status, res.body?.code]).toEqual([201, undefined]);
}

type Seat = 'free' | 'held' | 'sold';
const bitAt = (b64: string, i: number) => ((Buffer.from(b64, 'base64')[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;

/** The seat states a viewer's events add up to, checking seq continuity on the way. */
function picture(c: SseClient): { seq: number; seats: Seat[] } {
  let seq = -1;
  let seats: Seat[] = [];
  for (const e of c.events) {
    const data = JSON.parse(e.data);
    if (e.event === 'snapshot') {
      const snap = seatStreamSnapshotSchema.parse(data);
      seats = Array.from({ length: snap.capacity }, (_, i) =>
        bitAt(snap.sold.data, i) ? (bitAt(snap.held.data, i) ? 'held' : 'sold') : 'free',
      );
      seq = snap.seq;
    } else if (e.event === 'change') {
      const ch = seatChangeSchema.parse(data);
      expect([ch.seq, 'follows', seq]).toEqual([seq + 1, 'follows', seq]);
      for (const i of ch.taken) seats[i] = 'sold';
      for (const i of ch.held) seats[i] = 'held';
      for (const i of ch.freed) seats[i] = 'free';
      seq = ch.seq;
    }
    expect(e.id).toBe(String(seq));
  }
  return { seq, seats };
}

/** The seats route's answer as seat states (the truth the stream must reach). */
async function seatsRoute(p: Platform): Promise<Seat[]> {
  const body = (await http(p.url, 'GET', `/api/v1/events/${eventId}/zones/a/seats`)).body;
  return Array.from({ length: body.capacity as number }, (_, i) =>
    bitAt(body.sold.data, i) ? (bitAt(body.held.data, i) ? 'held' : 'sold') : 'free',
  );
}

const sameAsRoute = async (c: SseClient, p: Platform) => JSON.stringify(picture(c).seats) === JSON.stringify(await seatsRoute(p));

test('a viewer gets a snapshot, then every change in order with no seq gap, held told from sold', async () => {
  const v = await viewer(a);
  expect(v.status).toBe(200);
  expect(v.contentType).toMatch(/^text\/event-stream/);
  await waitFor(() => v.of('snapshot').length === 1, 'the snapshot');
  expect(v.events[0]!.event).toBe('snapshot');

  for (let col = 1; col <= 12; col++) await buy(a, 'A', col);
  const held = await http(
    a.url,
    'POST',
    `/api/v1/events/${eventId}/holds`,
    { zoneId: 'a', seats: [{ row: 'B', column: 1 }] },
    { 'x-user-id': 'holder' },
  );
  expect(held.status).toBe(201);
  await waitFor(() => sameAsRoute(v, a), 'the stream to show the 12 sales and the hold');
  const seen = picture(v).seats;
  expect(seen.flatMap((s, i) => (s === 'sold' ? [i] : []))).toEqual(
    Array.from({ length: 12 }, (_, i) => layout.locate('A', i + 1)!.offset),
  );
  expect(seen[layout.locate('B', 1)!.offset]).toBe('held');

  await http(a.url, 'DELETE', `/api/v1/holds/${held.body.holdId}`, undefined, { 'x-user-id': 'holder' });
  await waitFor(() => picture(v).seats[layout.locate('B', 1)!.offset] === 'free', 'the released hold to show free');
  // Coalesced: fewer change events than changes, each with seq = previous + 1 (picture() asserts).
  expect(v.of('change').length).toBeLessThan(14);
  v.close();
});

test('a reconnect with Last-Event-ID gets exactly the changes it missed; a far too old id gets a snapshot', async () => {
  const watcher = await viewer(a);
  const first = await viewer(b);
  await waitFor(() => first.of('snapshot').length === 1 && watcher.events.length > 0, 'the snapshots');
  const left = Number(first.lastId);
  first.close();

  for (let col = 1; col <= 6; col++) await buy(col % 2 ? a : b, 'C', col);
  await waitFor(() => sameAsRoute(watcher, a), 'the watcher to see the missed sales');
  const target = picture(watcher).seq;

  // Resume on the other process than the one the viewer left.
  const back = await viewer(a, { 'last-event-id': String(left) });
  await waitFor(() => Number(back.lastId ?? 0) >= target, 'the missed changes');
  expect(back.of('snapshot')).toEqual([]);
  expect(back.of('change').map((c) => c.seq)).toEqual(Array.from({ length: target - left }, (_, i) => left + 1 + i));
  // The replayed changes on top of what the viewer had equal what the watcher saw.
  const replayedOnSnapshot = new SseClient();
  replayedOnSnapshot.events.push(first.events[0]!, ...back.events);
  expect(picture(replayedOnSnapshot).seats).toEqual(picture(watcher).seats);

  const stale = await viewer(b, { 'last-event-id': '1' });
  await waitFor(() => stale.events.length > 0 && picture(stale).seq === target, 'a fresh snapshot for an id the log no longer has');
  expect(stale.events[0]!.event).toBe('snapshot');
  for (const c of [watcher, back, stale]) c.close();
});

test('two api processes give the same events with the same seqs', async () => {
  const onA = await viewer(a);
  const onB = await viewer(b);
  await waitFor(() => onA.events.length > 0 && onB.events.length > 0, 'both snapshots');
  for (let col = 1; col <= 10; col++) await buy(col % 2 ? a : b, 'D', col);
  await waitFor(async () => (await sameAsRoute(onA, a)) && (await sameAsRoute(onB, b)), 'both viewers to see all ten sales');
  const last = Math.max(picture(onA).seq, picture(onB).seq);
  await waitFor(() => picture(onA).seq === last && picture(onB).seq === last, 'both at the same seq');
  const from = Math.max(picture(onA).seq - onA.of('change').length, picture(onB).seq - onB.of('change').length);
  const changesAfter = (c: SseClient) => c.events.filter((e) => e.event === 'change' && Number(e.id) > from);
  expect(changesAfter(onA)).toEqual(changesAfter(onB));
  expect(changesAfter(onA).length).toBeGreaterThan(0);
  expect(onA.of('snapshot')[0].seq <= last).toBe(true);
  onA.close();
  onB.close();
});

test('a viewer that stops reading is dropped once its queue passes LIVE_MAX_BUFFER_BYTES; the others go on', async () => {
  const dropped = async () => (await metrics.liveViewersDropped.get()).values.find((v) => v.labels.reason === 'slow')?.value ?? 0;
  const before = await dropped();
  const stalled = await viewer(a, {}, 'big');
  const healthy = await viewer(a, {}, 'big');
  await waitFor(() => stalled.events.length > 0 && healthy.events.length > 0, 'the snapshots');
  stalled.pause();
  const rssBefore = process.memoryUsage().rss;
  // Churn the whole 50,000-seat zone: every change event lists every seat (about 300 kB). The
  // bitmap is written directly, in this test's own key prefix: only the seats' state matters here.
  const bits = zoneKeys(prefix, eventId, 'big').bits;
  const bytes = Math.ceil(50_000 / 8);
  let round = 0;
  await waitFor(
    async () => {
      const seq = Number(healthy.lastId);
      healthy.events.splice(0, healthy.events.length - 1); // only the last id matters here
      await a.ctx.redis.setrange(bits, 0, Buffer.alloc(bytes, round++ % 2 ? 0 : 0xff));
      await waitFor(() => Number(healthy.lastId) === seq + 1, 'the healthy viewer to get the change', 5000);
      return (await dropped()) > before;
    },
    'the stalled viewer to be dropped',
    50_000,
    0,
  );
  expect(await dropped()).toBe(before + 1);
  // More was sent than the queue limit allows, yet the process did not keep it: dropped, not buffered.
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  expect(healthy.closed).toBe(false);
  expect(round).toBeGreaterThan(1);
  await a.ctx.redis.setrange(bits, 0, Buffer.alloc(bytes, 0));
  healthy.close();
});

test('the stream answers problems for unknown zones and past the viewer limit', async () => {
  const missing = await http(a.url, 'GET', `/api/v1/events/${eventId}/zones/nope/seats/stream`);
  expect([missing.status, missing.body.code]).toEqual([404, 'ZONE_NOT_FOUND']);
  const limited = await startTestPlatform(['api'], { REDIS_KEY_PREFIX: prefix, KAFKA_TOPIC_PREFIX: uid('test.'), LIVE_MAX_VIEWERS: '1' });
  try {
    const one = await viewer(limited);
    expect(one.status).toBe(200);
    const two = await http(limited.url, 'GET', `/api/v1/events/${eventId}/zones/a/seats/stream`);
    expect([two.status, two.body.code]).toEqual([503, 'LIVE_VIEWERS_LIMIT']);
    one.close();
  } finally {
    await limited.stop();
  }
});

test('cheaper reads: the seats route answers 304 to its ETag until a seat changes; catalog reads cache briefly; big bodies are compressed', async () => {
  const seats = `${a.url}/api/v1/events/${eventId}/zones/a/seats`;
  const first = await fetch(seats);
  const etag = first.headers.get('etag')!;
  expect([first.status, first.headers.get('cache-control'), etag]).toEqual([200, 'no-cache', expect.stringMatching(/^"[\w-]+"$/)]);
  expect((await fetch(seats, { headers: { 'if-none-match': etag } })).status).toBe(304);
  await buy(b, 'E', 1);
  const after = await fetch(seats, { headers: { 'if-none-match': etag } });
  expect([after.status, after.headers.get('etag') === etag]).toEqual([200, false]);

  const event = await fetch(`${a.url}/api/v1/events/${eventId}`);
  expect(event.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
  expect((await fetch(`${a.url}/api/v1/events`)).headers.get('cache-control')).toMatch(/^public/);

  // The 50,000-seat zone's map: gzip when asked (fetch decodes it; the header says what was sent).
  const raw = await new Promise<{ encoding?: string; bytes: number }>((resolve, reject) =>
    nodeHttp
      .get(
        `${a.url}/api/v1/events/${eventId}/zones/big/seats`,
        { headers: { 'accept-encoding': 'gzip' } },
        (res: nodeHttp.IncomingMessage) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], bytes }));
        },
      )
      .on('error', reject),
  );
  const plain = (
    await (await fetch(`${a.url}/api/v1/events/${eventId}/zones/big/seats`, { headers: { 'accept-encoding': 'identity' } })).text()
  ).length;
  expect(raw.encoding).toBe('gzip');
  expect(raw.bytes).toBeLessThan(plain / 2);
});
