import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ListTablesCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from '../load/driver/server-process';
import { batchWriteAll, inParallel, type Item, type TableWrite } from '../src/writer/batch';
import { ensureTable, eventZoneKey, seatSortKey, seatTableDefinition, ticketTableDefinition } from '../src/writer/tables';

/**
 * Where the DynamoDB seconds of a seed-sized reset go (docs/performance.md, "Reset"), on a
 * dynalite of its own (as `npm run services:up` starts it): the writer's items of `zones` × 780
 * sold seats (a seat item each, a ticket item each with its GSI), then each way of removing
 * them, timed: reading the seat items (one Query per zone), deleting seat items, deleting ticket
 * items (BatchWriteItem, 8 callers), and DeleteTable of each table.
 *
 * `node dist/bench/reset-store.js [--zones 100]`
 */
const ROOT = path.resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const S = (v: string) => ({ S: v });

async function main(zones: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reset-store-'));
  const port = await freePort();
  const bin = path.join(ROOT, 'scripts', 'services', 'dynalite-server.cjs');
  const child = spawn(process.execPath, [bin, '--port', String(port), '--host', '127.0.0.1', '--path', dir], { stdio: 'ignore' });
  const dynamo = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const mib = () => Number(execFileSync('du', ['-sm', dir]).toString().split('\t')[0]);
  const line = (s: string) => process.stdout.write(`${s}\n`);
  try {
    for (const deadline = Date.now() + 20_000; ; await sleep(200)) {
      try {
        await dynamo.send(new ListTablesCommand({}));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('dynalite did not start');
      }
    }
    const time = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      const out = await fn();
      line(`${label}: ${((Date.now() - t) / 1000).toFixed(2)} s (store ${mib()} MiB)`);
      return out;
    };
    for (const round of [1, 2]) {
      const seats = `bench-${round}-seats`;
      const tickets = `bench-${round}-tickets`;
      await time(`round ${round}: CreateTable seats + tickets until ACTIVE`, () =>
        Promise.all([ensureTable(dynamo, seatTableDefinition(seats)), ensureTable(dynamo, ticketTableDefinition(tickets))]),
      );
      const seatPuts: TableWrite[] = [];
      const ticketPuts: TableWrite[] = [];
      const createdOn = new Date().toISOString();
      for (let z = 1; z <= zones; z++)
        for (let r = 0; r < 26; r++)
          for (let c = 1; c <= 30; c++) {
            const row = String.fromCharCode(65 + r);
            const purchaseId = `Event1.${z}.${randomBytes(12).toString('base64url')}`;
            const item: Item = {
              ticketId: S(`${purchaseId}.1`),
              purchaseId: S(purchaseId),
              eventId: S('Event1'),
              zoneId: S(String(z)),
              venueId: S('Venue1'),
              userId: S(`user-${(z * 780 + r * 30 + c) % 5000}`),
              row: S(row),
              column: { N: String(c) },
              priceCents: { N: '5000' },
              currency: S('USD'),
              createdOn: S(createdOn),
              ticketCount: { N: '1' },
              eventZone: S(eventZoneKey('Event1', String(z))),
              seat: S(seatSortKey(row, c)),
            };
            ticketPuts.push({ table: tickets, request: { PutRequest: { Item: item } } });
            seatPuts.push({ table: seats, request: { PutRequest: { Item: item } } });
          }
      await time(`round ${round}: write ${ticketPuts.length} ticket items + ${seatPuts.length} seat items`, () =>
        batchWriteAll(dynamo, [...ticketPuts, ...seatPuts], 8),
      );
      const found = await time(`round ${round}: read the seat items (Query per zone, 8 in parallel)`, async () => {
        let n = 0;
        await inParallel(
          Array.from({ length: zones }, (_, i) => String(i + 1)),
          8,
          async (z) => {
            let start: Item | undefined;
            do {
              const out = await dynamo.send(
                new QueryCommand({
                  TableName: seats,
                  KeyConditionExpression: 'eventZone = :ez',
                  ExpressionAttributeValues: { ':ez': S(eventZoneKey('Event1', z)) },
                  ProjectionExpression: '#s, #t, #c',
                  ExpressionAttributeNames: { '#s': 'seat', '#t': 'ticketId', '#c': 'cancelledAt' },
                  ConsistentRead: true,
                  ...(start ? { ExclusiveStartKey: start } : {}),
                }),
              );
              n += out.Items?.length ?? 0;
              start = out.LastEvaluatedKey;
            } while (start);
          },
        );
        return n;
      });
      if (round === 1) {
        const del = (w: TableWrite): TableWrite => {
          const i = w.request.PutRequest!.Item!;
          const Key: Item = w.table === seats ? { eventZone: i.eventZone!, seat: i.seat! } : { ticketId: i.ticketId! };
          return { table: w.table, request: { DeleteRequest: { Key } } };
        };
        await time(`round 1: delete ${found} seat items (BatchWriteItem)`, () => batchWriteAll(dynamo, seatPuts.map(del), 8));
        await time(`round 1: delete ${ticketPuts.length} ticket items (BatchWriteItem, its GSI)`, () =>
          batchWriteAll(dynamo, ticketPuts.map(del), 8),
        );
      }
      await time(`round ${round}: DeleteTable seats`, () => dynamo.send(new DeleteTableCommand({ TableName: seats })));
      await time(`round ${round}: DeleteTable tickets`, () => dynamo.send(new DeleteTableCommand({ TableName: tickets })));
    }
    const t = Date.now();
    await dynamo.send(new CreateTableCommand({ ...seatTableDefinition(`bench-${randomBytes(3).toString('hex')}`) }));
    line(`CreateTable answered in ${Date.now() - t} ms`);
  } finally {
    dynamo.destroy();
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--zones');
  main(i >= 0 ? Number(process.argv[i + 1]) : 100).catch((err: unknown) => {
    process.stderr.write(`reset-store failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
