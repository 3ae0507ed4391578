import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { seedTestEvent, testEntry } from '../support/catalog';
import { uid } from '../support/env';
import { startTestPlatform } from '../support/platform';
import { NODE } from '../support/process';
import { buy, dynamoSeats, mysqlSeats, seatGroups, tableExists, testStores } from './support';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'src', 'admin', 'cli.js');

/** `npm run admin -- …` as an operator runs it: a separate process, output and exit code. */
function admin(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  if (!existsSync(CLI)) throw new Error('dist/src/admin/cli.js is missing: run `npm run build` (npm test does it for you)');
  return new Promise((resolve) => {
    const child = spawn(NODE, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('the admin CLI audits, rebuilds a lost zone bit for bit, reports drift with exit 1, and resets an event', async () => {
  const eventId = uid('Cli');
  const rows = 'ABCDEFGHIJ'.split('');
  const entry = testEntry({
    eventId,
    zones: [
      { zoneId: '1', rows },
      { zoneId: '2', rows },
    ],
  });
  const platform = await startTestPlatform(['api', 'writer', 'projector']);
  const stores = testStores(platform.cfg);
  const cleanup = await seedTestEvent(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX, entry);
  const env = {
    KAFKA_TOPIC_PREFIX: platform.cfg.KAFKA_TOPIC_PREFIX,
    REDIS_KEY_PREFIX: platform.cfg.REDIS_KEY_PREFIX,
    PURCHASE_TIMEOUT_MS: '500',
  };
  try {
    const sale = await buy(platform.url, eventId, ['1', '2'].flatMap((z) => seatGroups(z, rows, 30)).slice(0, 120), 16);
    expect(sale.seats.size).toBeGreaterThan(100);

    const clean = await admin(['audit', eventId], env);
    expect(clean.out).toContain(`redis=${sale.seats.size} (pending 0) dynamodb=${sale.seats.size} mysql=${sale.seats.size} drift=0`);
    expect(clean.code).toBe(0);

    // Redis loses zone 1: the audit says so (exit 3), the rebuild restores it from DynamoDB.
    const k = stores.inventory.keys(eventId, '1');
    const lostBits = await stores.ctx.redis.getBuffer(k.bits);
    await stores.ctx.redis.del(k.bits, k.counts, k.meta);
    const missing = await admin(['audit', eventId], env);
    expect(missing.out).toContain('zones without Redis inventory');
    expect(missing.code).toBe(3);
    const rebuilt = await admin(['rebuild-inventory', eventId], env);
    expect(rebuilt.out).toMatch(/zone 1: rebuilt with \d+ sold seats from DynamoDB/);
    expect(rebuilt.out).toContain('zone 2: inventory present; left alone');
    expect(rebuilt.code).toBe(0);
    expect((await stores.ctx.redis.getBuffer(k.bits))?.equals(lostBits!)).toBe(true);

    // Drift: a ticket row lost from MySQL is printed, and the exit code is 1.
    const [seat, ticketId] = [...sale.seats.entries()][0]!;
    await stores.ctx.mysql.run('DELETE FROM tickets WHERE ticket_id = ?', [ticketId]);
    const drift = await admin(['audit', eventId], env);
    const [zoneId, rowSeat] = seat.split('/');
    const [row, column] = rowSeat!.split('-');
    expect(drift.out).toContain(
      `DRIFT ${eventId}/${zoneId} row ${row} seat ${column}: redis=sold dynamodb=${ticketId} mysql=-: confirmed in Redis but missing in MySQL`,
    );
    expect(drift.code).toBe(1);

    const reset = await admin(['reset-event', eventId], env);
    expect(reset.code).toBe(0);
    // The event's tables of generation 0 (seats and tickets) are dropped whole; one MySQL row was dropped above.
    expect(reset.out).toContain(`DynamoDB: 2 tables of earlier generations dropped; MySQL: ${sale.seats.size - 1} tickets deleted`);
    expect(reset.out).toMatch(/reset in \d+\.\d s/);
    for (const table of Object.values(stores.writeModel.tablesOf(eventId, 0))) expect(await tableExists(stores, table)).toBe(false);
    expect((await dynamoSeats(stores, eventId, ['1', '2'])).size).toBe(0);
    expect((await mysqlSeats(stores, eventId)).size).toBe(0);
    expect((await stores.inventory.zoneState(eventId, '1'))?.available).toBe(300);

    expect((await admin(['audit', 'bad id!'], env)).code).toBe(2);
  } finally {
    await stores.writeModel.dropEvent(eventId).catch(() => undefined);
    await stores.readModel.deleteEvent(eventId).catch(() => undefined);
    await cleanup();
    await stores.closeAll();
    await platform.stop();
  }
}, 60000);
