import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from 'express';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { BuyerIdentity, requireBuyer, buyerFrom, type AuthSettings } from '../../src/auth/buyer';
import { devTokenRoutes } from '../../src/auth/dev-token';
import { call, serveRouters } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- jose is an ES module (src/auth/tokens.ts)
const jose = require('jose') as typeof Jose;

/**
 * Buyer identity with real tokens (jose signs them here, the platform verifies them) through
 * the platform's own Express app. The JWKS is served by a loopback HTTP server in this test.
 */
const SECRET = 'a-development-secret-of-at-least-32-bytes!';
const ADMIN = 'admin-token-for-the-buyer-tests';
const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'ticketing-api';
const now = () => Math.floor(Date.now() / 1000);

function settings(overrides: Partial<AuthSettings> = {}): AuthSettings {
  return { mode: 'jwt', adminToken: ADMIN, jwksUrl: '', hs256Secret: SECRET, issuer: '', audience: '', ...overrides };
}

/** A route that answers with the buyer, as every buyer route will establish it. */
function whoami(identity: BuyerIdentity): Router {
  const r = Router();
  r.post('/whoami', async (req, res) => void res.json(await identity.buyerOf(req)));
  r.get('/whoami', requireBuyer(identity), (_req, res) => void res.json(buyerFrom(res)));
  r.post('/purchases/:owner/cancel', async (req, res) => {
    identity.assertMayActFor(await identity.buyerOf(req), String(req.params.owner), 'purchase');
    res.json({ ok: true });
  });
  return r;
}

async function hs256(claims: Jose.JWTPayload, key = SECRET, alg = 'HS256'): Promise<string> {
  return new jose.SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('jwt mode with AUTH_HS256_SECRET', () => {
  let app: Awaited<ReturnType<typeof serveRouters>>;
  beforeAll(async () => (app = await serveRouters([whoami(new BuyerIdentity(settings({ issuer: ISSUER, audience: AUDIENCE })))])));
  afterAll(() => app.close());
  const good = (extra: Jose.JWTPayload = {}) => hs256({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600, ...extra });

  test('a valid token: the buyer is its sub', async () => {
    const r = await call(app.url, 'POST', '/whoami', { body: { seats: [] }, headers: bearer(await good()) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ userId: 'alice', via: 'token', admin: false });
  });

  test('the middleware form puts the same buyer in res.locals', async () => {
    const r = await call(app.url, 'GET', '/whoami', { headers: bearer(await good()) });
    expect(r.body).toEqual({ userId: 'alice', via: 'token', admin: false });
  });

  test('no token: 401 UNAUTHENTICATED, problem+json, WWW-Authenticate: Bearer', async () => {
    const r = await call(app.url, 'POST', '/whoami', { body: { userId: 'alice' } });
    expect(r.status).toBe(401);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    expect(r.body.detail).toMatch(/Authorization: Bearer/);
    expect(r.wwwAuthenticate).toBe('Bearer realm="ticketing"');
  });

  test.each([
    ['expired', { exp: now() - 60 }, /expired/],
    ['nbf in the future', { nbf: now() + 300 }, /not valid yet/],
    ['wrong issuer', { iss: 'https://evil.example.test/' }, /issuer/],
    ['wrong audience', { aud: 'another-api' }, /audience/],
    ['no exp', { exp: undefined }, /"exp"/],
    ['no sub', { sub: undefined }, /"sub"/],
    ['a sub that is no buyer id', { sub: 'has spaces' }, /not a valid buyer id/],
  ])('%s: 401 with error="invalid_token"', async (_name, extra, detail) => {
    const r = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(await good(extra)) });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('UNAUTHENTICATED');
    expect(r.body.detail).toMatch(detail);
    expect(r.wwwAuthenticate).toBe('Bearer realm="ticketing", error="invalid_token"');
  });

  test('a token signed with another key: 401', async () => {
    const forged = await hs256({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }, 'another-secret-that-is-also-32-bytes-long');
    const r = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(forged) });
    expect(r.status).toBe(401);
    expect(r.body.detail).toMatch(/not signed by a key this API trusts/);
  });

  test('an unsigned token (alg none) and garbage: 401', async () => {
    const unsigned = new jose.UnsecuredJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE }).setExpirationTime('10m').encode();
    for (const token of [unsigned, 'not-a-jwt', 'a.b.c']) {
      const r = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(token) });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHENTICATED');
    }
  });

  test('another scheme than Bearer: 401', async () => {
    const r = await call(app.url, 'POST', '/whoami', {
      body: {},
      headers: { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` },
    });
    expect(r.status).toBe(401);
  });

  test('a body userId or X-User-Id other than sub: 403 FORBIDDEN; the same one is fine', async () => {
    const token = await good();
    const body = await call(app.url, 'POST', '/whoami', { body: { userId: 'bob' }, headers: bearer(token) });
    expect(body.status).toBe(403);
    expect(body.contentType).toContain('application/problem+json');
    expect(body.body).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const header = await call(app.url, 'POST', '/whoami', { body: {}, headers: { ...bearer(token), 'x-user-id': 'bob' } });
    expect(header.status).toBe(403);
    const same = await call(app.url, 'POST', '/whoami', { body: { userId: 'alice' }, headers: { ...bearer(token), 'x-user-id': 'alice' } });
    expect(same.status).toBe(200);
    expect(same.body.userId).toBe('alice');
  });

  test("the admin token acts for the buyer it names, and on any buyer's resources", async () => {
    const named = await call(app.url, 'POST', '/whoami', { body: { userId: 'bob' }, headers: bearer(ADMIN) });
    expect(named.body).toEqual({ userId: 'bob', via: 'admin', admin: true });
    const nobody = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(ADMIN) });
    expect(nobody.body).toEqual({ userId: 'admin', via: 'admin', admin: true });
    expect((await call(app.url, 'POST', '/purchases/bob/cancel', { body: {}, headers: bearer(ADMIN) })).status).toBe(200);
    const almost = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(`${ADMIN}x`) });
    expect(almost.status).toBe(401);
  });

  test("a buyer acts on its own resources only: another's is 403 FORBIDDEN", async () => {
    const token = await good();
    expect((await call(app.url, 'POST', '/purchases/alice/cancel', { body: {}, headers: bearer(token) })).status).toBe(200);
    const other = await call(app.url, 'POST', '/purchases/bob/cancel', { body: {}, headers: bearer(token) });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('FORBIDDEN');
  });
});

describe('jwt mode with AUTH_JWKS_URL (a JWKS on loopback)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let app: Awaited<ReturnType<typeof serveRouters>>;
  let down: Awaited<ReturnType<typeof serveRouters>>;
  let privateKey: Jose.CryptoKey;
  let strangerKey: Jose.CryptoKey;
  let served = 0;

  beforeAll(async () => {
    const pair = await jose.generateKeyPair('RS256');
    privateKey = pair.privateKey;
    strangerKey = (await jose.generateKeyPair('RS256')).privateKey;
    const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      served += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    app = await serveRouters([whoami(new BuyerIdentity(settings({ hs256Secret: '', jwksUrl, issuer: ISSUER })))]);
    // A JWKS address nothing listens on: the identity provider is down.
    down = await serveRouters([whoami(new BuyerIdentity(settings({ hs256Secret: '', jwksUrl: 'http://127.0.0.1:1/jwks.json' })))]);
  });
  afterAll(async () => {
    await app.close();
    await down.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const rs256 = (key: Jose.CryptoKey, claims: Jose.JWTPayload = {}) =>
    new jose.SignJWT({ sub: 'carol', iss: ISSUER, exp: now() + 600, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .sign(key);

  test('a token signed by the JWKS key is valid', async () => {
    const r = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(await rs256(privateKey)) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ userId: 'carol', via: 'token', admin: false });
    expect(served).toBeGreaterThanOrEqual(1);
  });

  test('expired, and signed by a key that is not in the JWKS: 401', async () => {
    const expired = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(await rs256(privateKey, { exp: now() - 60 })) });
    expect(expired.status).toBe(401);
    const stranger = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(await rs256(strangerKey)) });
    expect(stranger.status).toBe(401);
    expect(stranger.body.code).toBe('UNAUTHENTICATED');
  });

  test('an HS256 token is refused when only a JWKS is configured (no public key used as a secret)', async () => {
    const r = await call(app.url, 'POST', '/whoami', {
      body: {},
      headers: bearer(await hs256({ sub: 'carol', iss: ISSUER, exp: now() + 600 })),
    });
    expect(r.status).toBe(401);
  });

  test("the identity provider unreachable: 503, not the buyer's fault", async () => {
    const r = await call(down.url, 'POST', '/whoami', { body: {}, headers: bearer(await rs256(privateKey)) });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});

describe('declared mode behaves as the multi-seat route', () => {
  let app: Awaited<ReturnType<typeof serveRouters>>;
  beforeAll(async () => (app = await serveRouters([whoami(new BuyerIdentity(settings({ mode: 'declared', hs256Secret: '' })))])));
  afterAll(() => app.close());

  test('the body userId, else X-User-Id, else anonymous; a JWT is not needed (nor read)', async () => {
    expect((await call(app.url, 'POST', '/whoami', { body: { userId: 'dave' }, headers: { 'x-user-id': 'erin' } })).body).toEqual({
      userId: 'dave',
      via: 'declared',
      admin: false,
    });
    expect((await call(app.url, 'POST', '/whoami', { body: {}, headers: { 'x-user-id': 'erin' } })).body).toEqual({
      userId: 'erin',
      via: 'declared',
      admin: false,
    });
    expect((await call(app.url, 'POST', '/whoami', { body: {} })).body).toEqual({ userId: 'anonymous', via: 'anonymous', admin: false });
    expect((await call(app.url, 'GET', '/whoami', { headers: bearer('not-a-jwt') })).body).toEqual({
      userId: 'anonymous',
      via: 'anonymous',
      admin: false,
    });
  });

  test('a malformed userId is 400 VALIDATION_FAILED, validated as on the purchase routes', async () => {
    const body = await call(app.url, 'POST', '/whoami', { body: { userId: 'has spaces' } });
    expect(body.status).toBe(400);
    expect(body.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body.userId' }] });
    const header = await call(app.url, 'POST', '/whoami', { body: {}, headers: { 'x-user-id': 'x'.repeat(129) } });
    expect(header.status).toBe(400);
    expect(header.body.errors[0].field).toBe('header.x-user-id');
    // As before: with a buyer in the body, the header is not read.
    expect(
      (await call(app.url, 'POST', '/whoami', { body: { userId: 'dave' }, headers: { 'x-user-id': 'x'.repeat(129) } })).body.userId,
    ).toBe('dave');
  });

  test('ownership: the declared buyer, or the admin token', async () => {
    expect((await call(app.url, 'POST', '/purchases/dave/cancel', { body: { userId: 'dave' } })).status).toBe(200);
    expect((await call(app.url, 'POST', '/purchases/dave/cancel', { body: { userId: 'erin' } })).status).toBe(403);
    expect((await call(app.url, 'POST', '/purchases/dave/cancel', { body: {}, headers: bearer(ADMIN) })).status).toBe(200);
  });
});

describe('the dev token route', () => {
  let app: Awaited<ReturnType<typeof serveRouters>>;
  beforeAll(async () => {
    const cfg = { hs256Secret: SECRET, issuer: ISSUER, audience: AUDIENCE };
    app = await serveRouters([devTokenRoutes(cfg), whoami(new BuyerIdentity(settings(cfg)))]);
  });
  afterAll(() => app.close());

  test('mints a token the jwt mode accepts, carrying issuer and audience', async () => {
    const minted = await call(app.url, 'POST', '/api/v1/dev/token', { body: { userId: 'frank' } });
    expect(minted.status).toBe(200);
    expect(minted.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, userId: 'frank' });
    const claims = jose.decodeJwt(minted.body.token);
    expect(claims).toMatchObject({ sub: 'frank', iss: ISSUER, aud: AUDIENCE });
    const r = await call(app.url, 'POST', '/whoami', { body: {}, headers: bearer(minted.body.token) });
    expect(r.body).toEqual({ userId: 'frank', via: 'token', admin: false });
  });

  test('refuses a missing or malformed userId with 400', async () => {
    expect((await call(app.url, 'POST', '/api/v1/dev/token', { body: {} })).status).toBe(400);
    expect((await call(app.url, 'POST', '/api/v1/dev/token', { body: { userId: 'a b' } })).status).toBe(400);
  });
});
