import { z } from 'zod';

/** Field types shared by the production schema (config.ts) and the test hooks (test-hooks.ts). */
export const port = z.coerce.number().int().min(0, 'must be 0..65535 (0 = any free port)').max(65535);

export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(' or ')}`,
  );

export const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** One bad variable: its name and what is wrong with it. */
export interface ConfigProblem {
  name: string;
  message: string;
}

/** Parses the schema's own variables out of `env`; problems name the variable. */
export function parseVariables<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): { data?: z.infer<S>; problems: ConfigProblem[] } {
  const known = Object.fromEntries(
    Object.keys(schema.shape)
      .filter((k) => env[k] !== undefined)
      .map((k) => [k, env[k]]),
  );
  const parsed = schema.safeParse(known);
  if (parsed.success) return { data: parsed.data, problems: [] };
  return { problems: parsed.error.issues.map((i) => ({ name: String(i.path[0] ?? '?'), message: i.message })) };
}
