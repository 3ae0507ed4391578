import { z } from 'zod';
import { ID_PATTERN } from '../catalog/model';
import { ApiError } from '../shared/errors';

const id = z.string().regex(ID_PATTERN, 'must match ^[A-Za-z0-9_-]{1,64}$');
/** Zone ids are strings in the catalog; the prototype sent numbers, so both are accepted. */
const zoneId = z.union([id, z.number().int().nonnegative().transform(String)]);
const row = z.string().regex(/^[A-Za-z0-9]{1,8}$/, 'must be a row label such as "A"');
/** The prototype sent the column as a number or a numeric string. */
const column = z.union([
  z.number().int(),
  z.string().regex(/^\d{1,6}$/, 'must be a seat number').transform(Number),
]);
const userId = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1–128 visible ASCII characters');

export const seatSchema = z.object({ row, column }).strict();

export const ticketBodySchema = z.object({
  venueId: id.optional(),
  eventId: id,
  zoneId,
  row,
  column,
  userId: userId.optional(),
});

/** `POST /ticket?venueId&eventId&zoneId&row&column` (the earliest prototype: event, zone). */
export const ticketQuerySchema = z
  .object({
    venueId: id.optional(),
    eventId: id.optional(),
    event: id.optional(),
    zoneId: zoneId.optional(),
    zone: zoneId.optional(),
    row,
    column,
    userId: userId.optional(),
  })
  .transform((q, ctx) => {
    const eventId = q.eventId ?? q.event;
    const zone = q.zoneId ?? q.zone;
    if (eventId === undefined || zone === undefined) {
      ctx.addIssue({ code: 'custom', message: 'eventId and zoneId are required', path: [eventId === undefined ? 'eventId' : 'zoneId'] });
      return z.NEVER;
    }
    return { venueId: q.venueId, eventId, zoneId: zone, row: q.row, column: q.column, userId: q.userId };
  });

export const purchaseBodySchema = z.object({
  userId,
  zoneId,
  venueId: id.optional(),
  seats: z.array(seatSchema).min(1, 'at least one seat'),
});

export const eventIdSchema = id;
export const userIdSchema = userId;

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ field: [where, ...i.path].join('.'), message: i.message }));
  throw new ApiError(
    'VALIDATION_FAILED',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    { errors },
  );
}
