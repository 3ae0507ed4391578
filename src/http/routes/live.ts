import { Router } from 'express';
import type { CatalogCache } from '../../catalog/cache';
import type { LiveHub } from '../../live/hub';
import { ApiError } from '../../shared/errors';
import { eventIdSchema } from '../schemas';
import { parse } from '../validation';

export interface LiveRouteDeps {
  catalogCache: CatalogCache;
  hub: LiveHub;
}

/** `Last-Event-ID` (EventSource sends it on reconnect) or `?lastEventId=` (a page that reopens the stream itself). */
function lastEventId(header: string | undefined, query: unknown): number | undefined {
  const raw = header ?? (typeof query === 'string' ? query : undefined);
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** The zone change stream (docs/live-seat-map.md): text/event-stream of a snapshot, then change events. */
export function liveRoutes(deps: LiveRouteDeps): Router {
  const router = Router();
  router.get('/api/v1/events/:eventId/zones/:zoneId/seats/stream', async (req, res) => {
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    const ev = await deps.catalogCache.get(eventId);
    if (!ev) throw new ApiError('EVENT_NOT_FOUND', `Event ${eventId} does not exist; GET /api/v1/events lists the events`);
    const zone = ev.zones.get(req.params.zoneId);
    if (!zone) throw new ApiError('ZONE_NOT_FOUND', `Event ${eventId} has no zone ${req.params.zoneId}`);
    deps.hub.admit();
    // Problems (rebuilding zone) still answer as problem+json: the feed is ready before the stream starts.
    await deps.hub.feed(eventId, zone);
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: a proxy must not buffer or compress the stream; X-Accel-Buffering: nginx ingress.
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const detach = await deps.hub.attach(eventId, zone, res, lastEventId(req.get('last-event-id'), req.query.lastEventId));
    if (res.destroyed || req.socket.destroyed) detach();
    else res.on('close', detach);
  });
  return router;
}
