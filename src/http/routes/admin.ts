import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { resetEvent, type ResetDeps } from '../../admin/reset';
import { ApiError } from '../../shared/errors';
import { eventIdSchema } from '../schemas';
import { parse } from '../validation';

/** Admin routes exist only when ADMIN_TOKEN is set, and need it as a bearer token. */
export function adminRoutes(token: string, deps: ResetDeps): Router {
  const router = Router();
  const auth: RequestHandler = (req, _res, next) => {
    const given = Buffer.from((req.get('authorization') ?? '').replace(/^Bearer /i, ''));
    const want = Buffer.from(token);
    if (!token || given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new ApiError('UNAUTHORIZED', 'Send Authorization: Bearer <ADMIN_TOKEN>');
    }
    next();
  };
  router.post('/admin/events/:eventId/reset', auth, async (req, res) => {
    const eventId = parse(eventIdSchema, req.params.eventId, 'path.eventId');
    if (!(await deps.catalog.getEvent(eventId))) throw new ApiError('EVENT_NOT_FOUND', `No event ${eventId}`);
    // The documented answer (ResetResult) is the zone count; the CLI prints the details.
    const { zones } = await resetEvent(eventId, deps);
    res.json({ eventId, zones });
  });
  return router;
}
