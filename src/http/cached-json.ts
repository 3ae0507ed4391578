import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';

/** Below this a compressed body saves less than its headers and CPU cost. */
const COMPRESS_FROM_BYTES = 1024;

/**
 * Sends a JSON body with a strong ETag (304 when `If-None-Match` names it) and, when it pays and
 * the client accepts it, brotli or gzip: the seat map and catalog reads, polled by every open
 * page. Built on node:zlib rather than the `compression` middleware (not a dependency), and only
 * on these routes, so a stream (text/event-stream) is never buffered by a compressor.
 */
export function sendCachedJson(req: Request, res: Response, body: unknown, cacheControl: string): void {
  const text = Buffer.from(JSON.stringify(body));
  const etag = `"${createHash('sha1').update(text).digest('base64url').slice(0, 22)}"`;
  res.set({ etag, 'cache-control': cacheControl, vary: 'Accept-Encoding' });
  const match = req.get('if-none-match');
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return void res.status(304).end();
  res.type('application/json');
  const accepts = req.get('accept-encoding') ?? '';
  if (text.length >= COMPRESS_FROM_BYTES && /\bbr\b/.test(accepts)) {
    res.set('content-encoding', 'br');
    return void res.send(brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }));
  }
  if (text.length >= COMPRESS_FROM_BYTES && /\bgzip\b/.test(accepts)) {
    res.set('content-encoding', 'gzip');
    return void res.send(gzipSync(text, { level: 5 }));
  }
  res.send(text);
}

/** Catalog reads change rarely and carry live counts: a short public cache, revalidated by ETag. */
export const CATALOG_CACHE_CONTROL = 'public, max-age=2, stale-while-revalidate=10';
/** The seat map: always revalidated (304 when nothing changed). */
export const SEATS_CACHE_CONTROL = 'no-cache';
