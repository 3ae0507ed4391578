import { z } from 'zod';
import { bool, parseVariables, type ConfigProblem } from './fields';

/**
 * Test-only fault hooks: variables a test sets to make a process fail at a chosen step. They
 * are not part of the production schema (config.ts), and in production mode (NODE_ENV=production,
 * which the image sets) every `FAULT_*` variable is refused, so a hook left in a manifest can
 * never kill a live api. docs/contracts.md lists them apart from the production variables.
 */
const schema = z.object({
  /** SIGKILL the api right after the Lua reservation, before Kafka acknowledged (test/purchase/crash.test.ts). */
  FAULT_CRASH_AFTER_RESERVE: bool.default(false),
  /** SIGKILL the api on the direct route after a declared buyer's allowance step, before reserve.lua (test/checkout/direct-limit-crash.test.ts). */
  FAULT_CRASH_AFTER_BUYER_STEP: bool.default(false),
  /** SIGKILL the api after a hold's payment succeeded, before convert.lua (test/checkout/crash.test.ts). */
  FAULT_CRASH_AFTER_CHARGE: bool.default(false),
  /** SIGKILL the api after convert.lua made a paid hold a purchase, before Kafka acknowledged it (test/checkout/crash.test.ts). */
  FAULT_CRASH_AFTER_HOLD_CONVERT: bool.default(false),
  /** SIGKILL the api right after Kafka acknowledged a TicketsCancelled, before its seats are freed (test/purchase/cancel-crash.test.ts). */
  FAULT_CRASH_AFTER_CANCEL_EVENT: bool.default(false),
});

export type TestHooks = z.infer<typeof schema>;

/** Every test hook's name starts with this; in production mode any such variable is refused. */
export const TEST_HOOK_PREFIX = 'FAULT_';

export function isProductionMode(env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV === 'production';
}

/** The hooks set in `env` (all off when none is), or the problems: a bad value, or any hook in production mode. */
export function parseTestHooks(env: NodeJS.ProcessEnv): { hooks?: TestHooks; problems: ConfigProblem[] } {
  if (isProductionMode(env)) {
    const set = Object.keys(env).filter((k) => k.startsWith(TEST_HOOK_PREFIX) && env[k] !== undefined && env[k] !== '');
    const problems = set.map((name) => ({
      name,
      message: 'test-only fault hook, refused in production mode (NODE_ENV=production): remove it from the environment',
    }));
    if (problems.length > 0) return { problems };
  }
  const { data, problems } = parseVariables(schema, env);
  return { hooks: data, problems };
}
