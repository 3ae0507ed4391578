import { loadConfig } from '../../src/config/config';
import type { Doc } from '../delivery/support/files';
import { ensureTools, render, stderrTail, VALUE_SETS } from '../delivery/support/tools';

/**
 * The chart carries the buyer-identity and payment variables: declared mode by default, jwt in
 * the production values, dev tokens off everywhere, the test payment provider on only in the kind
 * values, and the secrets only in a Secret. What the
 * chart renders is loaded by the platform's own configuration, as a pod would.
 */
jest.setTimeout(120_000);
ensureTools();

const config = (docs: Doc[], kind: 'ConfigMap' | 'Secret') =>
  docs.find((d) => d.kind === kind && d.metadata.labels?.['app.kubernetes.io/component'] === 'config');

test.each(VALUE_SETS)('$name values: auth variables in the ConfigMap, dev tokens off, the configuration loads', (vs) => {
  const r = render(vs.args);
  expect(r.code === 0 ? '' : stderrTail(r)).toBe('');
  const cm = config(r.docs, 'ConfigMap')!;
  // The cluster values layer on the kind values, production-redis-cluster on the production ones.
  const production = vs.name.startsWith('production');
  const kind = vs.name === 'kind' || vs.name === 'cluster';
  expect(cm.data.AUTH_MODE).toBe(production ? 'jwt' : 'declared');
  expect(cm.data.AUTH_DEV_TOKENS).toBe('false');
  // The test payment provider takes no money: on only where a development cluster asks for it.
  expect(cm.data.PAYMENT_TEST_PROVIDER).toBe(kind ? 'true' : 'false');
  for (const secret of ['AUTH_HS256_SECRET', 'PAYMENT_WEBHOOK_SECRET']) expect(cm.data).not.toHaveProperty(secret);
  // As a pod would start: the ConfigMap's environment in production mode (the image sets NODE_ENV).
  const cfg = loadConfig({ ...cm.data, NODE_ENV: 'production' });
  expect(cfg.AUTH_MODE).toBe(cm.data.AUTH_MODE);
  expect(cfg.PAYMENT_TEST_PROVIDER).toBe(kind);
  if (production) expect(cfg.AUTH_JWKS_URL).toMatch(/^https:\/\//);
});

test('the secrets go into the Secret only when set', () => {
  const r = render(['--set', `secret.paymentWebhookSecret=${'w'.repeat(32)}`, '--set', `secret.authHs256Secret=${'h'.repeat(32)}`]);
  expect(r.code === 0 ? '' : stderrTail(r)).toBe('');
  expect(config(r.docs, 'Secret')!.stringData).toMatchObject({ PAYMENT_WEBHOOK_SECRET: 'w'.repeat(32), AUTH_HS256_SECRET: 'h'.repeat(32) });
  expect(config(render([]).docs, 'Secret')!.stringData).not.toHaveProperty('PAYMENT_WEBHOOK_SECRET');
});

test.each([
  [['--set', 'config.auth.mode=jwt'], /config.auth.mode=jwt needs config.auth.jwksUrl/],
  [['--set', 'config.auth.mode=oauth'], /schema|enum|mode/i],
  [['--set', 'secret.paymentWebhookSecret=short'], /schema|minLength|paymentWebhookSecret/i],
])('refused: %j', (args, message) => {
  const r = render(args);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(message);
});
