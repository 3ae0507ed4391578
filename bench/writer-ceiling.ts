/**
 * node dist/bench/writer-ceiling.js [--records 12000] [--zones 12]: the stores phase's writer
 * figure on its own (no seed replay, no Kafka): dynalite's BatchWriteItem ceiling, then the
 * writer's own code (`DynamoWriteModel.writeChunk`, chunks of 500 of one partition) writing
 * two-seat records into fresh tables, as `bench/stores.ts` does after a replay, with the read
 * and write capacity units DynamoDB would charge per ticket (bench/capacity-meter.ts). Then a
 * second writer instance (a rebalance moved the partitions) writes a few more records per zone:
 * what re-learning the zones costs.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { loadConfig } from '../src/config/config';
import { createDynamoClient } from '../src/infra/connections';
import { partitionKey } from '../src/purchase/record';
import type { LogRecord } from '../src/stream/event-log';
import { measureBatchWriteCeiling } from '../src/writer/ceiling';
import { DynamoWriteModel } from '../src/writer/store';
import { dropAllTables, ensureTables } from '../src/writer/tables';
import { sampleSale } from './sample-sale';
import { meterCapacity, type CapacityCount } from './capacity-meter';

const PARTITIONS = 6;
const COLUMNS = 100;

function sale(eventId: string, zoneId: string, seat: number) {
  const seats = [seat, seat + 1].map((s) => ({ row: `R${Math.floor(s / COLUMNS)}`, column: 1 + (s % COLUMNS) }));
  return sampleSale(eventId, zoneId, seats, `user-${seat % 997}`);
}

/** Per partition, its zones' records interleaved in log order, numbered from `offsets`. */
function partitions(eventId: string, zones: number, perZone: number, firstSeat: number, offsets: number[]): LogRecord[][] {
  const out: LogRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; i < perZone; i++)
    for (let z = 0; z < zones; z++) {
      const p = z % PARTITIONS;
      const r = sale(eventId, String(z + 1), firstSeat + 2 * i);
      out[p]!.push({
        topic: 'bench',
        partition: p,
        offset: offsets[p]!++,
        key: partitionKey(r.eventId, r.zoneId),
        value: Buffer.from(JSON.stringify(r)),
        headers: {},
      });
    }
  return out;
}

async function writeAll(model: DynamoWriteModel, parts: LogRecord[][]): Promise<{ tickets: number; seconds: number }> {
  const started = process.hrtime.bigint();
  let tickets = 0;
  for (const records of parts)
    for (let i = 0; i < records.length; i += 500) {
      const done = await model.writeChunk(records.slice(i, i + 500));
      if (done.deadLetters.length > 0) throw new Error(`dead letters: ${done.deadLetters[0]!.reason}`);
      tickets += done.ok * 2;
    }
  return { tickets, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const perTicket = (c: CapacityCount, tickets: number) => ({
  rcu: Math.round((c.rcu / tickets) * 1000) / 1000,
  wcu: Math.round((c.wcu / tickets) * 1000) / 1000,
  requests: Object.fromEntries(Object.entries(c.byOperation).map(([k, v]) => [k, v])),
});

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '12000' }, zones: { type: 'string', default: '12' } } });
  const zones = Number(values.zones);
  const perZone = Math.ceil(Number(values.records) / zones);
  const cfg = loadConfig();
  const dynamo = createDynamoClient(cfg);
  const prefix = `benchw${Date.now()}`;
  const eventId = `BenchW${Date.now()}`;
  const load = os.loadavg().map((l) => l.toFixed(2));
  try {
    // The machine is shared: the ceiling is measured before and after the writer, on as many items as it writes, and averaged.
    const ceilingOf = () => measureBatchWriteCeiling(dynamo, { tablePrefix: `${prefix}c`, items: 4 * perZone * zones });
    // The same on the writer's own item mix: a ticket item (tickets table, two GSIs) and a seat item per ticket.
    const mixOf = () => measureBatchWriteCeiling(dynamo, { tablePrefix: `${prefix}m`, items: 4 * perZone * zones, shape: 'writer' });
    const ceilingBefore = await ceilingOf();
    const mixBefore = await mixOf();
    await ensureTables(dynamo, prefix);
    const offsets = Array.from({ length: PARTITIONS }, () => 0);
    const catchUpRecords = partitions(eventId, zones, perZone, 0, offsets);
    const gsis = (table: string) => (table.endsWith('.tickets') ? 1 : 0);
    const meter = meterCapacity(dynamo, gsis);
    const catchUp = await writeAll(new DynamoWriteModel(dynamo, prefix), catchUpRecords);
    meter.stop();
    const mixAfter = await mixOf();
    const ceilingAfter = await ceilingOf();
    const ceiling = { itemsPerSecond: (ceilingBefore.itemsPerSecond + ceilingAfter.itemsPerSecond) / 2 };
    const mix = { itemsPerSecond: (mixBefore.itemsPerSecond + mixAfter.itemsPerSecond) / 2 };
    // A rebalance: another writer instance takes every partition and sells 10 more records per zone.
    const after = partitions(eventId, zones, 10, 2 * perZone, offsets);
    const meter2 = meterCapacity(dynamo, gsis, meter.sizes);
    const moved = await writeAll(new DynamoWriteModel(dynamo, prefix), after);
    meter2.stop();
    const catchUpPerSec = catchUp.tickets / catchUp.seconds;
    process.stdout.write(
      `${JSON.stringify(
        {
          loadAverage: load,
          ceilingItemsPerSec: Math.round(ceiling.itemsPerSecond),
          ceilingSamples: [ceilingBefore, ceilingAfter].map((c) => Math.round(c.itemsPerSecond)),
          writerCatchUpTicketsPerSec: Math.round(catchUpPerSec),
          writerShareOfCeiling: Math.round(((catchUpPerSec * 2) / ceiling.itemsPerSecond) * 100) / 100,
          writerMixCeilingItemsPerSec: Math.round(mix.itemsPerSecond),
          writerMixCeilingSamples: [mixBefore, mixAfter].map((c) => Math.round(c.itemsPerSecond)),
          writerShareOfMixCeiling: Math.round(((catchUpPerSec * 2) / mix.itemsPerSecond) * 100) / 100,
          tickets: catchUp.tickets,
          catchUpPerTicket: perTicket(meter.count, catchUp.tickets),
          afterRebalance: { tickets: moved.tickets, soldSeatsPerZone: 2 * perZone, perTicket: perTicket(meter2.count, moved.tickets) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await dropAllTables(dynamo, prefix);
    dynamo.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`writer-ceiling failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
