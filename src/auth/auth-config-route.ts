import { Router } from 'express';
import type { AuthMode } from './buyer';

/**
 * `GET /api/v1/auth/config` -> `{mode, devTokens}`: how a client names its buyer, so the seat
 * map knows whether to send `X-User-Id` (declared) or a bearer token (jwt), and whether it may
 * offer the dev sign-in of `POST /api/v1/dev/token`. It says nothing secret: the mode shows
 * anyway in the 401s of jwt mode.
 */
export function authConfigRoutes(settings: { mode: AuthMode; devTokens: boolean }): Router {
  const router = Router();
  const body = { mode: settings.mode, devTokens: settings.devTokens };
  router.get('/api/v1/auth/config', (_req, res) => void res.json(body));
  return router;
}
