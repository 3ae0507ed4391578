import { z } from 'zod';
import { paymentMethodSchema } from '../payment/provider';
import { purchaseBodySchema, purchaseSchema, seatSchema, userIdSchema } from './schemas';

/*
 * The answers of the checkout routes (src/http/routes/holds.ts, me.ts), as /openapi.json
 * documents them and test/purchase/openapi-responses.test.ts checks real answers against.
 */

// ---------------------------------------------------------------- request bodies

/** `POST /api/v1/events/{eventId}/holds`: named seats or best: {count}, exactly one of them (the service checks). */
export const holdBody = z.object({
  zoneId: purchaseBodySchema.shape.zoneId,
  seats: z.array(seatSchema).min(1, 'at least one seat').optional(),
  best: z
    .object({ count: z.number().int().min(1, 'at least 1') })
    .strict()
    .optional(),
  expiresInSeconds: z.number().int('must be whole seconds').optional(),
  userId: userIdSchema.optional(),
});
export const extendBody = z.object({
  seconds: z.number().int('must be whole seconds').min(1, 'at least 1'),
  userId: userIdSchema.optional(),
});
export const payBody = z.object({ payment: paymentMethodSchema, userId: userIdSchema.optional() });

// ---------------------------------------------------------------- answers

const count = z.number().int().nonnegative();
const timestamp = z.iso.datetime({ offset: true });
const seat = z.strictObject({ row: z.string(), column: z.number().int() });
const payment = z.strictObject({ provider: z.string(), paymentId: z.string() });

export const holdStatusSchema = z.enum(['HELD', 'EXPIRED', 'RELEASED', 'PURCHASED']);

/** A hold: the answer of creating, reading, extending and releasing it. */
export const holdSchema = z
  .strictObject({
    holdId: z.string(),
    eventId: z.string(),
    zoneId: z.string(),
    seats: z.array(seat).min(1),
    expiresAt: timestamp,
    maxExpiresAt: timestamp.meta({ description: 'The latest expiresAt extensions may reach (HOLD_MAX_SECONDS after creation)' }),
    amountCents: count,
    currency: z.string(),
    nextToEachOther: z.boolean(),
    status: holdStatusSchema,
    buyer: z.string().optional().meta({ description: "The buyer's id; absent for an anonymous hold" }),
    purchaseId: z.string().optional().meta({ description: 'Set once the hold was paid' }),
  })
  .meta({ id: 'Hold' });

/** The 201 of paying a hold: the multi-seat purchase answer, plus the hold and the payment. */
export const holdPurchaseSchema = purchaseSchema.extend({ holdId: z.string(), payment: payment.optional() }).meta({ id: 'HoldPurchase' });

/** The 202 of paying a hold whose payment completes later, through the webhook. */
export const paymentPendingSchema = z
  .strictObject({ purchaseId: z.string(), holdId: z.string(), paymentId: z.string(), status: z.literal('PAYMENT_PENDING') })
  .meta({ id: 'PaymentPending' });

/** A purchase of a hold that has no purchase record (yet, or ever): paying, declined, refunded, … */
export const checkoutViewSchema = z
  .strictObject({
    purchaseId: z.string(),
    status: z.enum(['PAYMENT_PENDING', 'PAYMENT_DECLINED', 'PAYMENT_FAILED', 'PENDING', 'REFUNDED']),
    holdId: z.string(),
    eventId: z.string(),
    zoneId: z.string(),
    userId: z.string(),
    seats: z.array(seat),
    amountCents: count,
    currency: z.string(),
    payment: payment.optional(),
    reason: z.string().optional(),
    detail: z.string().optional(),
    refund: z.looseObject({}).optional(),
    createdOn: timestamp,
    tickets: z.array(z.unknown()).max(0).meta({ description: 'Empty: the tickets exist once the purchase is confirmed' }),
  })
  .meta({ id: 'CheckoutPurchase' });

/** `GET /api/v1/me/holds`. */
export const myHoldsSchema = z.strictObject({ userId: z.string(), holds: z.array(holdSchema) }).meta({ id: 'MyHolds' });

/** One of the buyer's purchases: from the read model, the purchase record, or the checkout. */
const myPurchase = z.looseObject({
  purchaseId: z.string(),
  status: z.string(),
  eventId: z.string(),
  zoneId: z.string(),
  userId: z.string(),
  createdOn: timestamp,
  tickets: z.array(z.looseObject({ row: z.string(), column: z.number().int() })),
});

/** `GET /api/v1/me/purchases`: newest first; `truncated` when the read model had more tickets than one page. */
export const myPurchasesSchema = z
  .strictObject({ userId: z.string(), purchases: z.array(myPurchase), truncated: z.literal(true).optional() })
  .meta({ id: 'MyPurchases' });

// ---------------------------------------------------------------- types (the web app imports these)

export type HoldAnswer = z.infer<typeof holdSchema>;
export type HoldPurchase = z.infer<typeof holdPurchaseSchema>;
export type PaymentPending = z.infer<typeof paymentPendingSchema>;
export type CheckoutPurchase = z.infer<typeof checkoutViewSchema>;
export type MyHolds = z.infer<typeof myHoldsSchema>;
export type MyPurchases = z.infer<typeof myPurchasesSchema>;
