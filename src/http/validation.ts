import type { z } from 'zod';
import { ApiError } from '../shared/errors';

/**
 * Validates a request part with one of the API's schemas (src/http/schemas.ts, the source of
 * /openapi.json too). Zod 4 compiles object schemas on first use; a valid value costs no
 * allocation here beyond the parsed result.
 */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ field: [where, ...i.path].join('.'), message: i.message }));
  throw new ApiError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
}
