import { ConfigError, loadAdminConfig } from '../config/config';
import { ID_PATTERN } from '../catalog/model';
import { createLogger } from '../observability/logger';
import { migrate } from '../projector/migrations';
import { RuntimeContext } from '../infra/connections';
import { auditEvent, formatAudit } from './audit';
import { markLostSales } from './repair';
import { rebuildEventInventory } from './rebuild';
import { resetEvent } from './reset';
import { quietHarmlessClientWarnings } from '../stream/kafka';
import { CqrsStores } from './stores';

quietHarmlessClientWarnings();

/** Exit codes: the same for every command, so scripts can branch on them. */
export const EXIT = { OK: 0, DRIFT_OR_FAILURE: 1, USAGE: 2, INCOMPLETE: 3 } as const;

const USAGE = `usage: npm run admin -- <command> <eventId> [--wait-ms <ms>]

commands:
  audit <eventId>              compare Redis, DynamoDB and MySQL seat by seat; print every difference
  rebuild-inventory <eventId>  rebuild the event's lost Redis zones from DynamoDB, then take again any seat
                               sold in DynamoDB but free in Redis (never frees a seat)
  reset-event <eventId>        clear the event's sales in Redis, DynamoDB and MySQL (load tests only); does not
                               wait for the consumers: their backlog of the event's old records is skipped

options:
  --wait-ms <ms>   how long to wait for the writer/projector to catch up (default 30000; reset ignores it)

exit codes: 0 ok, 1 drift found or the command failed, 2 usage, 3 incomplete (a consumer is
behind, or a zone could not be rebuilt yet): run it again once the consumers caught up.
The environment variables of docs/contracts.md select the services (REDIS_URL, KAFKA_*, ...).`;

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

export async function runCli(argv: string[]): Promise<number> {
  const [command, eventId, ...rest] = argv;
  const waitIdx = rest.indexOf('--wait-ms');
  const waitMs = waitIdx >= 0 ? Number(rest[waitIdx + 1]) : undefined;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? EXIT.OK : EXIT.USAGE;
  }
  if (
    !['audit', 'rebuild-inventory', 'reset-event'].includes(command) ||
    !eventId ||
    !ID_PATTERN.test(eventId) ||
    (waitIdx >= 0 && !(Number.isInteger(waitMs) && waitMs! >= 0))
  ) {
    process.stderr.write(
      `${!eventId || ID_PATTERN.test(eventId) ? '' : `invalid event id "${eventId}" (must match ${ID_PATTERN.source})\n`}${USAGE}\n`,
    );
    return EXIT.USAGE;
  }
  const cfg = loadAdminConfig();
  const ctx = new RuntimeContext(cfg, createLogger(cfg.LOG_LEVEL, 'admin'));
  const stores = new CqrsStores(ctx);
  try {
    // MySQL down must not stop the Redis/DynamoDB part (the audit reports MySQL unverified).
    await migrate(ctx.mysql).catch((err: Error) =>
      say(`MySQL did not answer (${err.message}); what needs it is skipped or fails, the rest goes on`),
    );
    switch (command) {
      case 'audit': {
        say(`auditing ${eventId}: Redis bitmap vs DynamoDB seats vs MySQL tickets`);
        const report = await auditEvent(stores, eventId, { waitMs: waitMs ?? 30_000 });
        for (const line of formatAudit(report)) say(line);
        if (report.drift.length > 0) return EXIT.DRIFT_OR_FAILURE;
        return report.unverified.length || report.missingZones.length || report.layoutMismatch.length ? EXIT.INCOMPLETE : EXIT.OK;
      }
      case 'rebuild-inventory': {
        say(`rebuilding the lost Redis zones of ${eventId} from DynamoDB`);
        const zones = await rebuildEventInventory(stores, eventId, { timeoutMs: waitMs ?? 120_000, log: say });
        const stuck = zones.filter((z) => z.outcome === 'not-caught-up');
        say(
          `${zones.length - stuck.length}/${zones.length} zones have inventory${stuck.length ? `; still waiting: ${stuck.map((z) => z.zoneId).join(', ')}` : ''}`,
        );
        if (stuck.length) return EXIT.INCOMPLETE;
        const report = await auditEvent(stores, eventId, { waitMs: waitMs ?? 30_000 });
        say(`${await markLostSales(stores, report, say)} seats sold in DynamoDB but free in Redis taken again`);
        return EXIT.OK;
      }
      case 'reset-event': {
        const started = Date.now();
        say(`resetting ${eventId}: fencing its records still in Kafka, then clearing DynamoDB, MySQL and Redis at once`);
        const r = await resetEvent(eventId, {
          catalog: stores.catalog,
          inventory: stores.inventory,
          say,
          clearStores: async (id) => {
            const fenced = await stores.fenceEvent(id, { log: say });
            return {
              cleared: fenced.cleared.then((c) =>
                say(`DynamoDB: ${c.droppedTables} tables of earlier generations dropped; MySQL: ${c.mysqlRows} tickets deleted`),
              ),
            };
          },
        });
        say(`${eventId} reset in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.zones} zones re-created empty`);
        return EXIT.OK;
      }
    }
    return EXIT.USAGE;
  } finally {
    await stores.close();
    await ctx.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `admin: ${(err as Error).message}\n`);
      process.exit(EXIT.DRIFT_OR_FAILURE);
    },
  );
}
