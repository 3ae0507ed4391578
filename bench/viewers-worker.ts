/**
 * One child process of the viewers benchmark (forked by bench/viewers-phase.ts): `count` cheap
 * seat-map viewers of one zone, either on the change stream (raw node:http, one agent without
 * keep-alive and no socket cap, the minimal SSE splitter of bench/viewers-seen.ts) or polling the
 * seats route every second the way the page's fallback does (src/web/app/src/poll.ts: each start
 * at most 1 s after the previous one, never two at once, If-None-Match with the last ETag, a
 * browser's Accept-Encoding, one keep-alive connection per page).
 * Frames and bodies are identical for every viewer, so each is decoded once per process; a viewer
 * keeps only seqs or ETags and their arrival times.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { FromWorker, OpenMessage, ToWorker, WorkerCounters, WorkerReport } from './viewers-protocol';
import {
  PolledBodies,
  PollViewerRecord,
  purchaseIndex,
  SeenTally,
  splitFrames,
  StreamFrames,
  StreamViewerRecord,
  type Purchase,
} from './viewers-seen';

/** Epoch milliseconds with sub-millisecond resolution, comparable with the driver's (another process). */
const now = () => performance.timeOrigin + performance.now();
const send = (m: FromWorker) => process.send?.(m);

const counters: WorkerCounters = { statuses: {}, errors: 0, bytes: 0, cpuMicros: 0 };
const errorSamples: string[] = [];
const noteError = (what: string) => {
  counters.errors++;
  if (errorSamples.length < 10) errorSamples.push(what);
};
const count = (status: number) => (counters.statuses[status] = (counters.statuses[status] ?? 0) + 1);
const snapshotCounters = (): WorkerCounters => {
  const cpu = process.cpuUsage();
  return { ...counters, statuses: { ...counters.statuses }, cpuMicros: cpu.user + cpu.system };
};

let closing = false;
const requests = new Set<http.ClientRequest>();
const frames = new StreamFrames();
const bodies = new PolledBodies();
const streamViewers: StreamViewerRecord[] = [];
const pollViewers: PollViewerRecord[] = [];
let dropped = 0;
let mode: OpenMessage['mode'] = 'stream';

/** Opens one stream viewer; resolves true once its snapshot arrived, false when refused or failed. */
function openStream(o: OpenMessage, target: URL, agent: http.Agent): Promise<boolean> {
  const v = new StreamViewerRecord();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `/api/v1/events/${o.eventId}/zones/${o.zoneId}/seats/stream`,
        agent,
        localAddress: o.localAddress,
        headers: { accept: 'text/event-stream' },
      },
      (res) => {
        count(res.statusCode ?? 0);
        if (res.statusCode !== 200) {
          noteError(`stream answered ${res.statusCode}`);
          res.resume();
          return resolve(false);
        }
        streamViewers.push(v);
        res.setEncoding('latin1'); // the frames are ASCII JSON: no UTF-8 decoding per chunk
        res.on('data', (chunk: string) => {
          const at = now();
          counters.bytes += chunk.length;
          v.rest = splitFrames(v.rest, chunk, (event, id, data) => {
            const seq = Number(id);
            if (event === 'snapshot') frames.snapshot(seq, data);
            else if (event === 'change') frames.change(seq, data);
            else return;
            v.received(event, seq, at);
            if (v.seqs.length === 1) resolve(true);
          });
        });
        res.on('close', () => {
          requests.delete(req);
          if (!closing) {
            dropped++;
            noteError('a stream ended before the close');
          }
          resolve(false);
        });
      },
    );
    requests.add(req);
    req.on('error', (err) => {
      requests.delete(req);
      if (!closing) noteError(`stream: ${err.message}`);
      resolve(false);
    });
    req.end();
  });
}

function decode(encoding: string | undefined, body: Buffer): string {
  if (encoding === 'br') return brotliDecompressSync(body).toString();
  if (encoding === 'gzip') return gunzipSync(body).toString();
  if (encoding === 'deflate') return inflateSync(body).toString();
  return body.toString();
}

/** Starts one polling viewer; resolves once its first answer arrived (failures are retried, never resolve it). */
function startPolling(o: OpenMessage, target: URL): Promise<boolean> {
  const v = new PollViewerRecord();
  pollViewers.push(v);
  // A page has its own connection; maxSockets 1 keeps one agent from sharing sockets between pages.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const path = `/api/v1/events/${o.eventId}/zones/${o.zoneId}/seats`;
  return new Promise((first) => {
    let started = 0;
    let answered = false;
    let failures = 0;
    const next = (ok: boolean) => {
      if (ok) first(true);
      if (closing) return;
      // As the page does (src/web/app/src/poll.ts): a failure backs off, doubling up to 5 s.
      failures = ok ? 0 : failures + 1;
      const base = failures === 0 ? o.pollEveryMs : Math.min(5000, o.pollEveryMs * 2 ** failures);
      // After its first answer a page waits a random part of a second once: pages opened at random
      // moments poll at random phases (opening 10,000 connections in the same second would only
      // measure the listen backlog).
      const phase = answered || !ok ? 0 : Math.random() * o.pollEveryMs;
      if (ok) answered = true;
      setTimeout(tick, Math.max(0, base - (performance.now() - started)) + phase);
    };
    const tick = () => {
      if (closing) return;
      started = performance.now();
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path,
          agent,
          localAddress: o.localAddress,
          headers: {
            accept: 'application/json',
            'accept-encoding': 'gzip, deflate, br, zstd',
            ...(v.etag ? { 'if-none-match': v.etag } : {}),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          count(status);
          const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
          const decodeIt = status === 200 && etag !== undefined && !bodies.has(etag);
          const chunks: Buffer[] = [];
          let ended = false;
          res.on('data', (c: Buffer) => {
            counters.bytes += c.length;
            if (decodeIt) chunks.push(c);
          });
          res.on('end', () => {
            ended = true;
            requests.delete(req);
            const at = now();
            if (status === 200 && etag) {
              if (decodeIt && !bodies.has(etag)) bodies.add(etag, decode(res.headers['content-encoding'], Buffer.concat(chunks)));
              v.answered(etag, at);
            } else if (status !== 304) noteError(`seats answered ${status}`);
            next(status === 200 || status === 304);
          });
          // The connection closed inside the answer: no 'end', and no 'error' on the request either.
          res.on('close', () => {
            if (ended || closing) return;
            requests.delete(req);
            noteError('poll: the connection closed inside an answer');
            next(false);
          });
        },
      );
      requests.add(req);
      req.on('error', (err) => {
        requests.delete(req);
        if (closing) return;
        noteError(`poll: ${err.message}`);
        next(false);
      });
      req.end();
    };
    tick();
  });
}

async function open(o: OpenMessage): Promise<void> {
  mode = o.mode;
  const t0 = performance.now();
  const target = new URL(o.url);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const settle = (opened: boolean) => {
    if (opened) ok++;
    else failed++;
  };
  let all: Promise<unknown>;
  if (o.mode === 'stream') {
    // A few streams at a time, each done when its snapshot arrived.
    const lane = async () => {
      while (next < o.count) {
        next++;
        settle(await openStream(o, target, agent));
      }
    };
    all = Promise.all(Array.from({ length: Math.min(o.connectConcurrency, o.count) }, lane));
  } else {
    // Pages open at a steady rate whatever the api answers (a crowd does not wait for the server),
    // not all in one instant (that would only measure the listen backlog).
    const started: Promise<void>[] = [];
    for (let i = 0; i < o.count; i++) {
      started.push(startPolling(o, target).then(settle));
      if ((i + 1) % 10 === 0) await sleep((10 * 1000) / o.openPerSecond);
    }
    all = Promise.all(started);
  }
  // An overloaded api may leave polls unanswered for long: after the deadline the rest count as not opened (they go on polling).
  const timedOut = new Promise<void>((r) => setTimeout(r, o.openTimeoutMs).unref());
  await Promise.race([all, timedOut]);
  if (o.mode === 'poll') failed = o.count - ok;
  send({ type: 'opened', open: ok, failed, errorSamples: errorSamples.slice(), seconds: (performance.now() - t0) / 1000 });
}

/** Viewers that have not yet seen every purchased seat taken. */
function notDone(purchases: Purchase[]): number {
  if (mode === 'poll') {
    const done = new Map<string, boolean>();
    const hasAll = (etag: string) => {
      let d = done.get(etag);
      if (d === undefined) {
        const bits = bodies.bits.get(etag);
        d = !!bits && purchases.every((p) => (((bits[p.offset >> 3] ?? 0) >> (7 - (p.offset & 7))) & 1) === 1);
        done.set(etag, d);
      }
      return d;
    };
    return pollViewers.filter((v) => !v.etag || !hasAll(v.etag)).length;
  }
  // The seq that first showed each purchased seat taken; the viewers past the last of them are done.
  const firstTaken = new Map<number, number>();
  for (const [seq, c] of frames.changes)
    for (const o of c.taken) if (!firstTaken.has(o) || firstTaken.get(o)! > seq) firstTaken.set(o, seq);
  let needed = 0;
  for (const p of purchases) {
    const seq = firstTaken.get(p.offset);
    if (seq === undefined) return streamViewers.length;
    needed = Math.max(needed, seq);
  }
  return streamViewers.filter((v) => v.lastSeq < needed).length;
}

function report(purchases: Purchase[]): WorkerReport {
  const tally = new SeenTally(purchases);
  if (mode === 'poll') for (const v of pollViewers) tally.viewer(v.seenAt(purchases, bodies));
  else {
    const index = purchaseIndex(purchases);
    for (const v of streamViewers) tally.viewer(v.seenAt(purchases, frames, index));
  }
  const lastSeqs = streamViewers.map((v) => v.lastSeq);
  return {
    ...tally.report(),
    viewers: mode === 'poll' ? pollViewers.length : streamViewers.length,
    gaps: streamViewers.reduce((s, v) => s + v.gaps, 0),
    resyncs: streamViewers.reduce((s, v) => s + v.resyncs, 0),
    dropped,
    ...(frames.picture ? { picture: { seq: frames.picture.seq, taken: frames.picture.taken.toString('base64') } } : {}),
    ...(lastSeqs.length > 0 ? { lastSeq: { min: Math.min(...lastSeqs), max: Math.max(...lastSeqs) } } : {}),
    errorSamples: errorSamples.slice(),
  };
}

process.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'open') void open(m).catch((err: Error) => send({ type: 'fatal', message: err.stack ?? err.message }));
    else if (m.type === 'progress') send({ type: 'progress', notDone: notDone(m.purchases), counters: snapshotCounters() });
    else if (m.type === 'report') send({ type: 'report', report: report(m.purchases), counters: snapshotCounters() });
    else if (m.type === 'close') {
      closing = true;
      for (const r of requests) r.destroy();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 50).unref();
    }
  } catch (err) {
    send({ type: 'fatal', message: (err as Error).stack ?? String(err) });
  }
});
// The driver is gone (it died or was stopped): so is this process.
process.on('disconnect', () => process.exit(0));
