import { Router } from 'express';
import { z } from 'zod';
import { userIdSchema } from '../http/schemas';
import { parse } from '../http/validation';
import { signHs256Token } from './tokens';

/** How long a dev token lives: a working session, short enough that a leaked one dies soon. */
export const DEV_TOKEN_SECONDS = 3600;

const devTokenBody = z.object({ userId: userIdSchema }).strict();

/**
 * `POST /api/v1/dev/token {userId}` -> `{token, tokenType, expiresIn}`: an HS256 JWT for any
 * buyer, signed with AUTH_HS256_SECRET and carrying AUTH_ISSUER / AUTH_AUDIENCE when set, so
 * jwt mode can be tried without an identity provider. Mounted only with AUTH_DEV_TOKENS=true
 * (refused in production mode by the configuration; off in the chart).
 */
export function devTokenRoutes(settings: { hs256Secret: string; issuer: string; audience: string }): Router {
  const router = Router();
  router.post('/api/v1/dev/token', async (req, res) => {
    const { userId } = parse(devTokenBody, req.body ?? {}, 'body');
    const token = await signHs256Token(settings.hs256Secret, {
      sub: userId,
      issuer: settings.issuer,
      audience: settings.audience,
      expiresInSeconds: DEV_TOKEN_SECONDS,
    });
    res.status(200).json({ token, tokenType: 'Bearer', expiresIn: DEV_TOKEN_SECONDS, userId });
  });
  return router;
}
