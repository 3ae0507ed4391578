import { ConfigError, loadConfig } from '../../src/config/config';

const SECRET = 'x'.repeat(32);

describe('auth and payment configuration', () => {
  test('defaults: declared mode, no keys, no dev tokens, no webhook secret', () => {
    expect(loadConfig({})).toMatchObject({
      AUTH_MODE: 'declared',
      AUTH_JWKS_URL: '',
      AUTH_HS256_SECRET: '',
      AUTH_ISSUER: '',
      AUTH_AUDIENCE: '',
      AUTH_DEV_TOKENS: false,
      PAYMENT_WEBHOOK_SECRET: '',
      ADMIN_TOKEN: '',
    });
  });

  test('jwt mode with a JWKS, or with an HS256 secret of 32 bytes', () => {
    expect(loadConfig({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'https://id.example.test/jwks.json' }).AUTH_MODE).toBe('jwt');
    expect(loadConfig({ AUTH_MODE: 'jwt', AUTH_HS256_SECRET: SECRET, AUTH_DEV_TOKENS: 'true' })).toMatchObject({
      AUTH_HS256_SECRET: SECRET,
      AUTH_DEV_TOKENS: true,
    });
  });

  test('an HS256 secret shorter than 32 bytes is refused at load, and the message does not print it', () => {
    const short = 'short-secret-31-bytes-long-abcd';
    expect(Buffer.byteLength(short)).toBe(31);
    const load = () => loadConfig({ AUTH_MODE: 'jwt', AUTH_HS256_SECRET: short });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/AUTH_HS256_SECRET=<secret, 31 bytes>: AUTH_HS256_SECRET must be at least 32 bytes \(UTF-8\)/);
    expect(load).not.toThrow(new RegExp(short));
  });

  test('the length is counted in UTF-8 bytes, not characters', () => {
    // 16 two-byte characters: 16 characters, 32 bytes.
    expect(loadConfig({ AUTH_HS256_SECRET: 'é'.repeat(16) }).AUTH_HS256_SECRET).toBe('é'.repeat(16));
    expect(() => loadConfig({ AUTH_HS256_SECRET: 'é'.repeat(15) })).toThrow(/at least 32 bytes/);
  });

  test('the test payment provider: on by default, off by default in production mode, an explicit value wins', () => {
    expect(loadConfig({}).PAYMENT_TEST_PROVIDER).toBe(true);
    expect(loadConfig({ PAYMENT_TEST_PROVIDER: '' }).PAYMENT_TEST_PROVIDER).toBe(true);
    expect(loadConfig({ PAYMENT_TEST_PROVIDER: 'false' }).PAYMENT_TEST_PROVIDER).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }).PAYMENT_TEST_PROVIDER).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', PAYMENT_TEST_PROVIDER: '' }).PAYMENT_TEST_PROVIDER).toBe(false);
    // A development cluster runs the production image and opts in (the chart's kind values).
    expect(loadConfig({ NODE_ENV: 'production', PAYMENT_TEST_PROVIDER: 'true' }).PAYMENT_TEST_PROVIDER).toBe(true);
    expect(() => loadConfig({ PAYMENT_TEST_PROVIDER: 'sometimes' })).toThrow(/PAYMENT_TEST_PROVIDER="sometimes"/);
  });

  test('a short webhook secret is refused the same way', () => {
    expect(() => loadConfig({ PAYMENT_WEBHOOK_SECRET: 'whsec_short' })).toThrow(/PAYMENT_WEBHOOK_SECRET=<secret, 11 bytes>/);
  });

  test.each([
    [{ AUTH_MODE: 'jwt' }, /AUTH_MODE="jwt": jwt mode needs a key: set AUTH_JWKS_URL/],
    [{ AUTH_MODE: 'oauth' }, /AUTH_MODE="oauth"/],
    [{ AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'ftp://x/jwks' }, /AUTH_JWKS_URL="ftp:\/\/x\/jwks"/],
    [{ AUTH_DEV_TOKENS: 'true' }, /AUTH_DEV_TOKENS="true": dev tokens are signed with AUTH_HS256_SECRET/],
    [
      { AUTH_DEV_TOKENS: 'true', AUTH_HS256_SECRET: SECRET, NODE_ENV: 'production' },
      /AUTH_DEV_TOKENS="true": the dev token route mints a token for anyone: it is refused in production mode/,
    ],
  ])('%o is refused with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
