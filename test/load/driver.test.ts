import type { Config } from '../../src/config/config';
import { BaselineSeats } from '../../src/purchase/sql-store';
import { createSqlClient } from '../../src/shared/sql';
import { createEventLog, topics } from '../../src/stream/kafka';
import { runScenario, type LabTarget } from '../../load/driver/lab';
import { EventLogCollector } from '../../load/driver/stores';
import { buildScenario } from '../../load/scenarios';
import { testLogger, uid } from '../support/env';
import { startTestPlatform, testRedis } from '../support/platform';

/**
 * Keeps the load lab from rotting: the driver's scenarios at small size against a real api
 * (Redis engine and SQL baseline), checked by set comparison against the stores. The check
 * itself (verifyRun) is tested without services in verify.unit.test.ts.
 */
/** The platform's topics are this test's own (testConfig gives each platform a prefix): remove them. */
async function deleteTopics(cfg: Config | undefined): Promise<void> {
  if (!cfg) return;
  const eventLog = createEventLog(cfg, testLogger());
  await eventLog.deleteTopics(Object.values(topics(cfg))).catch(() => undefined);
  await eventLog.close();
}

describe('load driver', () => {
  const redis = testRedis();
  afterAll(async () => {
    await redis.quit();
  });

  describe('against the Redis engine', () => {
    let platform: Awaited<ReturnType<typeof startTestPlatform>>;
    let lab: LabTarget;
    let log: EventLogCollector;

    beforeAll(async () => {
      platform = await startTestPlatform(['api']);
      log = new EventLogCollector(platform.ctx.eventLog, topics(platform.cfg).tickets);
      await log.start();
      lab = { url: platform.url, backend: 'redis', redis, prefix: platform.cfg.REDIS_KEY_PREFIX, eventLog: log };
    });
    afterAll(async () => {
      await log?.stop();
      await platform?.stop();
      await deleteTopics(platform?.cfg);
    });

    test('seed replay: one 201 per seat, 409 for every duplicate, and the 201s equal the bitmap and the event log', async () => {
      const plan = buildScenario('seed-replay', 'test');
      const report = await runScenario(lab, plan, { eventId: uid('LabReplay'), concurrency: 200 });
      expect(report.verdict.problems).toEqual([]);
      expect(report.verdict.correct).toBe(true);
      expect(report.verdict.confirmed).toBe(2 * 5 * 30);
      expect(report.verdict.conflicts).toBe(330);
      expect(report.stats.statuses).toEqual({ '201': 300, '409': 330 });
    });

    test('hot seat: 500 buyers for 10 seats sell exactly 10', async () => {
      const report = await runScenario(lab, buildScenario('hot-seat', 'test'), { eventId: uid('LabHot'), concurrency: 200 });
      expect(report.verdict.problems).toEqual([]);
      expect(report.stats.statuses).toEqual({ '201': 10, '409': 490 });
    });

    test('overlapping groups: all or nothing, seat sets disjoint', async () => {
      const report = await runScenario(lab, buildScenario('groups', 'test'), { eventId: uid('LabGroups'), concurrency: 100 });
      expect(report.verdict.problems).toEqual([]);
      expect(report.verdict.confirmed).toBeGreaterThan(0);
      expect(report.verdict.confirmed + report.verdict.conflicts).toBe(report.stats.requests);
    });

    test('open loop: the replay at a fixed arrival rate is still exact', async () => {
      const report = await runScenario(lab, buildScenario('seed-replay', 'test'), {
        eventId: uid('LabOpen'),
        concurrency: 100,
        rate: 2000,
      });
      expect(report.verdict.problems).toEqual([]);
      expect(report.stats.mode).toBe('open');
      expect(report.stats.statuses).toEqual({ '201': 300, '409': 330 });
    });
  });

  describe('against the SQL baseline', () => {
    let platform: Awaited<ReturnType<typeof startTestPlatform>>;
    let lab: LabTarget;
    let baseline: BaselineSeats;

    beforeAll(async () => {
      platform = await startTestPlatform(['api'], { INVENTORY_BACKEND: 'sql' });
      baseline = new BaselineSeats(createSqlClient(platform.cfg.MYSQL_URL, { connections: 4 }));
      lab = { url: platform.url, backend: 'sql', redis, prefix: platform.cfg.REDIS_KEY_PREFIX, baseline };
    });
    afterAll(async () => {
      await baseline?.sql.close();
      await platform?.stop();
      await deleteTopics(platform?.cfg);
    });

    test('hot seat and seed replay are exact, and the seat rows hold the tickets the buyers got', async () => {
      const hot = await runScenario(lab, buildScenario('hot-seat', 'test'), { eventId: uid('LabSqlHot'), concurrency: 200 });
      expect(hot.verdict.problems).toEqual([]);
      expect(hot.stats.statuses).toEqual({ '201': 10, '409': 490 });
      const replay = await runScenario(lab, buildScenario('seed-replay', 'test'), { eventId: uid('LabSqlReplay'), concurrency: 200 });
      expect(replay.verdict.problems).toEqual([]);
      expect(replay.stats.statuses).toEqual({ '201': 300, '409': 330 });
    });

    test('multi-seat groups stay all or nothing under row locks', async () => {
      const report = await runScenario(lab, buildScenario('groups', 'test'), { eventId: uid('LabSqlGroups'), concurrency: 100 });
      expect(report.verdict.problems).toEqual([]);
    });
  });
});
