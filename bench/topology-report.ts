/** The Markdown of `npm run bench -- --topology cluster` (bench/topology.ts). */
import type { TopologyComparison, TopologyReplay } from './topology';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const shape = (r: TopologyReplay) =>
  `${r.topology} · ${r.apis} api · ${r.writers} writer · ${r.projectors} projector · WAIT ${r.waitReplicas}`;

export function topologyMarkdown(c: TopologyComparison, machine: Record<string, unknown>): string {
  const lines: string[] = [];
  lines.push(`# Topology comparison (${c.size}): single vs cluster, one run`, '');
  lines.push(
    `Measured on ${String(machine.cpuModel)} × ${String(machine.nproc)} (nproc), load average at start ${JSON.stringify(machine.loadAverageAtStart)}. ` +
      'Driver, every api/writer/projector process, 6 Redis nodes, 3 (or 1) Kafka brokers, MariaDB and dynalite share these cores, ' +
      'so the cluster topology cannot be faster here: it runs more processes on the same two cores and pays replication (3 Kafka replicas, ' +
      'Redis replicas). What it shows is that the cluster sells correctly and what each purchase costs each part. ' +
      "The single topology's Redis and Kafka are shared with other engineers: their counters include whatever else ran meanwhile.",
    '',
  );
  lines.push(`${c.correct ? 'Every replay was correct.' : '**NOT every replay was correct.**'}`, '');
  lines.push('| shape | requests | throughput (req/s) | p50 (ms) | p99 (ms) | correct | statuses | stored (DynamoDB / MySQL / sold) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | --- | --- | --- |');
  for (const r of c.replays)
    lines.push(
      `| ${shape(r)} | ${fmt(r.requests)} | ${fmt(r.throughput)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.correct ? 'yes' : 'NO'} | ${Object.entries(
        r.statuses,
      )
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')} | ${r.stored.dynamodb} / ${r.stored.mysql} / ${r.stored.sold} |`,
    );
  lines.push('', '## CPU per purchase (µs; process CPU time / 201s)', '');
  lines.push('| shape | api | writer | projector | Kafka brokers |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of c.replays) {
    const u = r.cpuUsecPerPurchase;
    lines.push(`| ${shape(r)} | ${fmt(u.api ?? 0)} | ${fmt(u.writer ?? 0)} | ${fmt(u.projector ?? 0)} | ${fmt(u.broker ?? 0)} |`);
  }
  lines.push('', '## Redis per shard (per purchase)', '');
  lines.push('| shape | master | calls | calls/purchase | command µs/purchase | server CPU µs/purchase | top commands (calls, µs/call) |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of c.replays)
    for (const s of r.redisShards)
      lines.push(
        `| ${shape(r)} | ${s.node} | ${fmt(s.calls)} | ${fmt(s.callsPerPurchase, 2)} | ${fmt(s.commandUsecPerPurchase, 2)} | ${fmt(s.cpuUsecPerPurchase, 1)} | ${s.top
          .map((t) => `${t.command} ${t.calls} (${t.usecPerCall})`)
          .join(', ')} |`,
      );
  lines.push('', '## Kafka per partition of the tickets topic (one replica; the log holds RF copies)', '');
  lines.push('| shape | partition | records | bytes | bytes/record |', '| --- | ---: | ---: | ---: | ---: |');
  for (const r of c.replays)
    for (const p of r.partitions)
      lines.push(`| ${shape(r)} | ${p.partition} | ${fmt(p.records)} | ${fmt(p.bytes)} | ${fmt(p.bytesPerRecord)} |`);
  if (c.fence) {
    lines.push(
      '',
      `## reserve.lua with and without the fence check (${c.fence.node}, conflict path, ${fmt(c.fence.requestsPerRound)} calls per round)`,
      '',
    );
    lines.push('| variant | median calls/s | median EVALSHA µs/call | rounds (calls/s, µs/call) |', '| --- | ---: | ---: | --- |');
    for (const v of c.fence.variants)
      lines.push(
        `| ${v.variant} | ${fmt(v.medianRps)} | ${fmt(v.medianUsecPerCall, 2)} | ${v.rounds.map((x) => `${fmt(x.rps)}, ${x.usecPerCall}`).join('; ')} |`,
      );
    lines.push('', `The check costs ${fmt(c.fence.fenceUsecPerCall, 2)} µs of Redis time per call.`);
  }
  if (c.errors.length > 0) lines.push('', '## Errors', '', ...c.errors.map((e) => `- ${e}`));
  return lines.join('\n');
}
