/**
 * The faults, one per phase, injected with real signals while the buyers keep buying. Each
 * `inject` does the damage and then waits (with a deadline) until the platform says it
 * recovered, so the next phase starts from a working platform.
 */
import type { Inventory } from '../src/inventory/inventory';
import type { PrivateKafka } from '../test/support/private-kafka';
import { waitFor } from '../test/support/env';
import type { RoleName, Roles } from './roles';

export interface FaultContext {
  roles: Roles;
  /** Messages a consumer group has not committed yet (0 = caught up). */
  uncommitted(group: 'writer' | 'projector'): Promise<number>;
  kafka: PrivateKafka;
  inventory: Inventory;
  eventId: string;
  /**
   * The zone whose Redis state the Redis-loss fault deletes: the one with the most unknown
   * outcomes so far, so their purchase records (which buyers poll) are lost with it.
   */
  lostZone(): string;
  log: (line: string) => void;
}

export interface Fault {
  name: string;
  what: string;
  inject(ctx: FaultContext): Promise<void>;
}

const RECOVERY_MS = 90_000;
/** How long a fault lasts: the fault itself, not a synchronisation. */
const hold = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killAndRestart(ctx: FaultContext, role: RoleName): Promise<void> {
  // A consumer is killed while it holds delivered but uncommitted records, so they are redelivered.
  if (role === 'writer' || role === 'projector') {
    const behind = await waitFor(
      async () => (await ctx.uncommitted(role)) > 0,
      `the ${role} to have uncommitted records`,
      20_000,
      20,
    ).catch(() => false);
    if (!behind) ctx.log(`${role} had no uncommitted records within 20 s; killing it anyway`);
  }
  await ctx.roles.kill(role);
  ctx.log(`${role} SIGKILLed; restarting it on the same port`);
  await ctx.roles.start(role, RECOVERY_MS);
}

/** Kafka is back when every role that talks to it says so (the api's circuit closed, the consumers joined). */
async function kafkaUsersReady(ctx: FaultContext): Promise<void> {
  const from = Date.now();
  await Promise.all(
    (['api', 'writer', 'projector'] as const).map(async (r) => {
      await ctx.roles.ready(r, RECOVERY_MS);
      ctx.log(`${r} ready again after ${((Date.now() - from) / 1000).toFixed(1)} s`);
    }),
  );
}

export function faultList(opts: { kafkaFreezeMs: number; projectorStopMs: number }): Fault[] {
  return [
    { name: 'no fault', what: 'the replay alone, as a baseline', inject: async () => undefined },
    { name: 'api SIGKILL', what: 'the api process SIGKILLed mid-load and restarted', inject: (ctx) => killAndRestart(ctx, 'api') },
    {
      name: 'writer SIGKILL',
      what: 'the writer SIGKILLed (records written, offsets not committed) and restarted',
      inject: (ctx) => killAndRestart(ctx, 'writer'),
    },
    { name: 'projector SIGKILL', what: 'the projector SIGKILLed and restarted', inject: (ctx) => killAndRestart(ctx, 'projector') },
    {
      name: 'Kafka SIGKILL',
      what: 'the Kafka broker SIGKILLed and restarted',
      inject: async (ctx) => {
        await ctx.kafka.kill();
        ctx.log('Kafka SIGKILLed; restarting it');
        const from = Date.now();
        await ctx.kafka.start();
        ctx.log(`Kafka accepts connections again after ${((Date.now() - from) / 1000).toFixed(1)} s`);
        await kafkaUsersReady(ctx);
      },
    },
    {
      name: 'Kafka SIGSTOP',
      what: `the broker frozen (SIGSTOP) for ${opts.kafkaFreezeMs} ms, longer than PURCHASE_TIMEOUT_MS, then SIGCONT`,
      inject: async (ctx) => {
        ctx.kafka.signal('SIGSTOP');
        try {
          await hold(opts.kafkaFreezeMs);
        } finally {
          ctx.kafka.signal('SIGCONT');
        }
        ctx.log('Kafka resumed (SIGCONT)');
        await kafkaUsersReady(ctx);
      },
    },
    {
      name: 'projector SIGSTOP',
      what: `the projector stopped (SIGSTOP) for ${opts.projectorStopMs} ms, then resumed to catch up`,
      inject: async (ctx) => {
        ctx.roles.signal('projector', 'SIGSTOP');
        try {
          await hold(opts.projectorStopMs);
        } finally {
          ctx.roles.signal('projector', 'SIGCONT');
        }
        ctx.log('projector resumed (SIGCONT)');
        await ctx.roles.ready('projector', RECOVERY_MS);
      },
    },
    {
      name: 'Redis zone lost',
      what: "one zone's Redis keys (bitmap, counters, meta, pending set, purchase records) deleted; the controller rebuilds it from DynamoDB",
      inject: async (ctx) => {
        const zone = ctx.lostZone();
        await ctx.inventory.deleteZone(ctx.eventId, zone);
        ctx.log(`zone ${zone}'s Redis state deleted; waiting for the controller to rebuild it`);
        await waitFor(() => ctx.inventory.zoneExists(ctx.eventId, zone), `the controller to rebuild zone ${zone}`, RECOVERY_MS, 200);
      },
    },
  ];
}
