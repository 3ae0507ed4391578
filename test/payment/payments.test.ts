import { keysMatching } from '../../src/shared/redis';
import { Payments } from '../../src/payment/payments';
import { PaymentStore } from '../../src/payment/store';
import { TestPaymentProvider } from '../../src/payment/test-provider';
import type { ChargeRequest, ChargeResult, PaymentProvider } from '../../src/payment/provider';
import { ApiError } from '../../src/shared/errors';
import { testLogger, uid } from '../support/env';
import { dropKeyPrefix, testRedis } from '../support/platform';

/** The test provider and the Payments service against the real Redis, under this test's own key prefix. */
const redis = testRedis();
const prefix = `tp:${uid('pay')}:`;
const store = new PaymentStore(redis, prefix, 3600);
const provider = new TestPaymentProvider(redis, prefix, 3600);
const payments = new Payments(store, [provider], testLogger());

afterAll(async () => {
  await dropKeyPrefix(redis, prefix);
  redis.disconnect();
});

const charge = (token: string, purchaseId = uid('P'), amountCents = 12000) =>
  payments.charge({ purchaseId, method: { provider: 'test', token }, amountCents, currency: 'EUR' });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** Every Redis key under this test's prefix with its value, to prove what is (not) stored. */
async function everythingStored(): Promise<string> {
  const keys = await keysMatching(redis, `${prefix}*`);
  const values = await Promise.all(
    keys.map(async (k) => ((await redis.type(k)) === 'hash' ? JSON.stringify(await redis.hgetall(k)) : await redis.get(k))),
  );
  return keys.map((k, i) => `${k} ${values[i]}`).join('\n');
}

describe('a provider turned off for charges (PAYMENT_TEST_PROVIDER=false)', () => {
  const off = new Payments(store, [provider], testLogger(), new Set(['test']));

  test('a charge is 422 PAYMENT_PROVIDER_UNAVAILABLE and stores nothing', async () => {
    const before = await everythingStored();
    const purchaseId = uid('P');
    const err = await refusal(
      off.charge({ purchaseId, method: { provider: 'test', token: 'tok_visa' }, amountCents: 500, currency: 'EUR' }),
    );
    expect([err.code, err.status, err.extra]).toEqual(['PAYMENT_PROVIDER_UNAVAILABLE', 422, { provider: 'test' }]);
    expect(err.message).toMatch(/turned off on this deployment and nothing was charged; no payment provider is enabled here/);
    expect(await off.ofPurchase(purchaseId)).toBeUndefined();
    expect(await everythingStored()).toBe(before);
    expect(off.chargeable()).toEqual([]);
    expect(payments.chargeable()).toEqual(['test']);
  });

  test('a payment taken while it was on is still refunded through it, once', async () => {
    const p = await charge('tok_visa');
    const refunded = await off.refund(p.paymentId);
    expect(refunded).toMatchObject({ status: 'REFUNDED', paymentId: p.paymentId, amountCents: 12000 });
    expect(await off.refund(p.paymentId)).toEqual(refunded);
  });
});

describe('the test provider, through Payments', () => {
  test('tok_visa succeeds at once', async () => {
    const purchaseId = uid('P');
    const p = await charge('tok_visa', purchaseId);
    expect(p).toMatchObject({ provider: 'test', purchaseId, amountCents: 12000, currency: 'EUR', status: 'SUCCEEDED' });
    expect(p.paymentId).toMatch(/^pay_test_/);
    expect(await payments.get(p.paymentId)).toEqual(p);
    expect(await provider.status(p.paymentId)).toBe('SUCCEEDED');
  });

  test('tok_chargeDeclined is 402 PAYMENT_DECLINED; the payment is recorded FAILED', async () => {
    const err = await refusal(charge('tok_chargeDeclined'));
    expect(err.code).toBe('PAYMENT_DECLINED');
    expect(err.status).toBe(402);
    expect(err.extra).toMatchObject({ declineCode: 'card_declined' });
    const recorded = await payments.get(String(err.extra.paymentId));
    expect(recorded?.status).toBe('FAILED');
    expect(await provider.status(String(err.extra.paymentId))).toBe('FAILED');
  });

  test('tok_pending is PENDING until the provider settles it', async () => {
    const p = await charge('tok_pending');
    expect(p.status).toBe('PENDING');
    expect(await provider.status(p.paymentId)).toBe('PENDING');
    const event = await provider.settle(p.paymentId, 'succeeded');
    expect(event).toMatchObject({ type: 'payment.succeeded', paymentId: p.paymentId });
    expect(event!.id).toMatch(/^evt_test_/);
    expect(await provider.status(p.paymentId)).toBe('SUCCEEDED');
    // The first settlement wins.
    expect(await provider.settle(p.paymentId, 'failed')).toBeUndefined();
  });

  test("an unknown token or provider is the buyer's mistake: 400", async () => {
    expect((await refusal(charge('tok_unknown'))).code).toBe('VALIDATION_FAILED');
    const err = await refusal(
      payments.charge({ purchaseId: uid('P'), method: { provider: 'stripe', token: 'tok_visa' }, amountCents: 1, currency: 'EUR' }),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toMatch(/unknown provider "stripe"; use one of: test/);
    expect(
      (
        await refusal(
          payments.charge({ purchaseId: uid('P'), method: { provider: 'test', token: 'tok_visa' }, amountCents: 1, currency: 'euro' }),
        )
      ).code,
    ).toBe('VALIDATION_FAILED');
  });

  test('a purchase is charged once: a retry, even with another card, returns its payment', async () => {
    const purchaseId = uid('P');
    const first = await charge('tok_visa', purchaseId);
    expect(await charge('tok_visa', purchaseId)).toEqual(first);
    expect(await charge('tok_pending', purchaseId)).toEqual(first);
    expect(await payments.ofPurchase(purchaseId)).toEqual(first);
  });

  test('after a decline the buyer can pay the same purchase with another card', async () => {
    const purchaseId = uid('P');
    await refusal(charge('tok_chargeDeclined', purchaseId));
    const paid = await charge('tok_visa', purchaseId);
    expect(paid.status).toBe('SUCCEEDED');
    expect(await payments.ofPurchase(purchaseId)).toEqual(paid);
  });

  test('the same charge sent twice at once charges once (the provider is idempotent by key)', async () => {
    const purchaseId = uid('P');
    const [a, b] = await Promise.all([charge('tok_visa', purchaseId), charge('tok_visa', purchaseId)]);
    expect(a.paymentId).toBe(b.paymentId);
  });

  test('no token or card data is stored, only provider, paymentId, amount and status', async () => {
    const purchaseId = uid('P');
    await charge('tok_visa', purchaseId);
    await refusal(charge('tok_chargeDeclined'));
    await charge('tok_pending');
    const stored = await everythingStored();
    expect(stored).toContain(purchaseId);
    expect(stored).not.toMatch(/tok_/);
  });
});

describe('refunds', () => {
  test('a succeeded payment is refunded once: repeats and concurrent twins get the same refund', async () => {
    const p = await charge('tok_visa');
    const [a, b] = await Promise.all([payments.refund(p.paymentId), payments.refund(p.paymentId)]);
    expect(a).toMatchObject({ status: 'REFUNDED', paymentId: p.paymentId, amountCents: 12000, currency: 'EUR' });
    expect(b).toEqual(a);
    expect(await payments.refund(p.paymentId)).toEqual(a);
    expect((await payments.get(p.paymentId))?.status).toBe('REFUNDED');
    expect((await payments.get(p.paymentId))?.refund?.refundId).toBe(a.status === 'REFUNDED' ? a.refundId : '');
    expect(await provider.status(p.paymentId)).toBe('REFUNDED');
  });

  test('a declined payment has nothing to refund; a pending one is refunded after it succeeded', async () => {
    const declined = await refusal(charge('tok_chargeDeclined'));
    expect(await payments.refund(String(declined.extra.paymentId))).toEqual({ status: 'NOT_CHARGED', paymentId: declined.extra.paymentId });
    const pending = await charge('tok_pending');
    expect(await payments.refund(pending.paymentId)).toEqual({ status: 'PENDING', paymentId: pending.paymentId });
    await store.settle(pending.paymentId, 'SUCCEEDED', uid('evt'));
    expect((await payments.refund(pending.paymentId)).status).toBe('REFUNDED');
  });

  test('an unknown payment is 404', async () => {
    expect((await refusal(payments.refund('pay_test_nothing'))).code).toBe('NOT_FOUND');
  });

  test('a provider that does not answer: 503, and the retry refunds once', async () => {
    let calls = 0;
    const flaky: PaymentProvider = {
      name: 'flaky',
      charge: (r: ChargeRequest): Promise<ChargeResult> => provider.charge(r),
      refund: async (paymentId, key) => {
        calls += 1;
        if (calls === 1) throw new Error('connect ETIMEDOUT');
        return provider.refund(paymentId, key);
      },
      status: (id) => provider.status(id),
    };
    const viaFlaky = new Payments(store, [flaky], testLogger());
    const p = await viaFlaky.charge({
      purchaseId: uid('P'),
      method: { provider: 'flaky', token: 'tok_visa' },
      amountCents: 500,
      currency: 'EUR',
    });
    expect((await refusal(viaFlaky.refund(p.paymentId))).code).toBe('DEPENDENCY_UNAVAILABLE');
    expect((await payments.get(p.paymentId))?.status).toBe('SUCCEEDED');
    const refunded = await viaFlaky.refund(p.paymentId);
    expect(refunded).toMatchObject({ status: 'REFUNDED', amountCents: 500 });
    expect(await viaFlaky.refund(p.paymentId)).toEqual(refunded);
    expect(calls).toBe(2);
  });
});

describe('the state machine: terminal states are final', () => {
  test('PENDING -> SUCCEEDED; a later FAILED changes nothing', async () => {
    const p = await charge('tok_pending');
    const first = await store.settle(p.paymentId, 'SUCCEEDED', 'evt_a');
    expect(first).toMatchObject({ applied: true, payment: { status: 'SUCCEEDED' } });
    const late = await store.settle(p.paymentId, 'FAILED', 'evt_b');
    expect(late).toMatchObject({ applied: false, payment: { status: 'SUCCEEDED' } });
  });

  test('PENDING -> FAILED; a later SUCCEEDED changes nothing', async () => {
    const p = await charge('tok_pending');
    expect((await store.settle(p.paymentId, 'FAILED', 'evt_a'))?.payment.status).toBe('FAILED');
    expect(await store.settle(p.paymentId, 'SUCCEEDED', 'evt_b')).toMatchObject({ applied: false, payment: { status: 'FAILED' } });
  });

  test('concurrent contradicting outcomes: exactly one wins', async () => {
    const p = await charge('tok_pending');
    const results = await Promise.all([store.settle(p.paymentId, 'SUCCEEDED', 'evt_s'), store.settle(p.paymentId, 'FAILED', 'evt_f')]);
    expect(results.filter((r) => r?.applied)).toHaveLength(1);
    const final = (await store.get(p.paymentId))!.status;
    expect(results.map((r) => r?.payment.status)).toEqual([final, final]);
  });

  test('settling an unknown payment reports it and creates nothing', async () => {
    expect(await store.settle('pay_test_unknown', 'SUCCEEDED', 'evt_x')).toBeUndefined();
    expect(await store.get('pay_test_unknown')).toBeUndefined();
  });
});
