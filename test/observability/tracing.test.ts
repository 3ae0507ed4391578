import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReadModel } from '../../src/projector/read-model';
import { createDynamoClient } from '../../src/infra/connections';
import { createSqlClient } from '../../src/shared/sql';
import { dropAllTables } from '../../src/writer/tables';
import { seedTestEvent, testEntry } from '../support/catalog';
import { testConfig, uid, waitFor } from '../support/env';
import { testRedis } from '../support/platform';
import { spawnRole, waitReady, type RoleProcess } from '../support/process';

/**
 * One purchase is one trace: the api's request span, and the writer's and projector's consumer
 * spans, share a trace id carried in the Kafka message headers. The OTLP receiver is a small
 * HTTP server of the test's own that records what the real exporters send.
 */
interface Span {
  traceId: string;
  name: string;
  service: string;
}
const spans: Span[] = [];
const collector = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    try {
      const doc = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: { traceId: string; name: string }[] }[];
        }[];
      };
      for (const rs of doc.resourceSpans ?? []) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ traceId: s.traceId, name: s.name, service });
      }
    } catch {
      /* not JSON: ignore */
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

const redis = testRedis();
const cfg = testConfig();
const eventId = uid('Trace');
const procs: RoleProcess[] = [];
const tablePrefix = uid('trace');
let cleanup: () => Promise<void>;

beforeAll(async () => {
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  cleanup = await seedTestEvent(redis, cfg.REDIS_KEY_PREFIX, testEntry({ eventId }));
});
afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await cleanup();
  // What the writer and projector stored for this test: its own tables and its event's rows.
  const dynamo = createDynamoClient(cfg);
  await dropAllTables(dynamo, tablePrefix);
  dynamo.destroy();
  const sql = createSqlClient(cfg.MYSQL_URL, { connections: 1 });
  await new ReadModel(sql).deleteEvent(eventId);
  await sql.close();
  await redis.quit();
  collector.close();
});

test('a purchase is one trace from the api through Kafka to the writer and the projector', async () => {
  const env = {
    KAFKA_TOPIC_PREFIX: uid('trace.'),
    REDIS_KEY_PREFIX: cfg.REDIS_KEY_PREFIX,
    DYNAMODB_TABLE_PREFIX: tablePrefix,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const api = await spawnRole('api', env);
  procs.push(api);
  await waitReady(api);
  for (const role of ['writer', 'projector']) procs.push(await spawnRole(role, env));
  await Promise.all(procs.slice(1).map((p) => waitReady(p, 60000)));

  const res = await fetch(`${api.url}/api/v1/events/${eventId}/purchases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'tracer', zoneId: '1', seats: [{ row: 'A', column: 1 }] }),
  });
  expect(res.status).toBe(201);

  const trace = await waitFor(
    () => {
      const root = spans.find((s) => s.service === 'ticketing-api' && /POST/.test(s.name) && /purchases/.test(s.name));
      if (!root) return undefined;
      const services = new Set(spans.filter((s) => s.traceId === root.traceId).map((s) => s.service));
      return services.has('ticketing-writer') && services.has('ticketing-projector') ? root.traceId : undefined;
    },
    'api, writer and projector spans of one trace',
    45000,
    200,
  );
  expect(spans.filter((s) => s.traceId === trace).map((s) => s.service)).toEqual(
    expect.arrayContaining(['ticketing-api', 'ticketing-writer', 'ticketing-projector']),
  );
}, 120000);
