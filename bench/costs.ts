/**
 * What one purchase costs each part, read from the processes and engines themselves around a
 * measured run (bench/topology.ts): process CPU from /proc, Redis `INFO commandstats` and
 * `INFO cpu` per master, Kafka end offsets and log-segment bytes per partition.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { masters, type RedisClient } from '../src/shared/redis';
import type { EventLog } from '../src/stream/event-log';

/** Kernel clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const CLK_TCK = Number(commandOutput('getconf', ['CLK_TCK']) ?? 100) || 100;

function commandOutput(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** The pid listening on a local TCP port (ss -tlnp), e.g. a Kafka broker. */
export function listenerPid(port: number): number | undefined {
  const out = commandOutput('ss', ['-Htlnp', `sport = :${port}`]) ?? '';
  const pid = /pid=(\d+)/.exec(out)?.[1];
  return pid ? Number(pid) : undefined;
}

/** A broker's log.dirs, read from the server.properties on its command line. */
export function brokerLogDirs(pid: number): string[] {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const props = args.find((a) => a.endsWith('.properties') && !a.includes('log4j'));
    if (!props) return [];
    const text = readFileSync(props, 'utf8');
    const dirs = /^log\.dirs?=(.+)$/m.exec(text)?.[1] ?? '';
    return dirs
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Bytes of a topic's log segments per partition, one replica's worth (the largest copy found). */
export function partitionBytes(logDirs: string[], topic: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const dir of logDirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue; // a broker without that log dir on this machine
    }
    for (const entry of entries) {
      const m = /^(.+)-(\d+)$/.exec(entry);
      if (!m || m[1] !== topic) continue;
      let bytes = 0;
      for (const f of readdirSync(path.join(dir, entry))) if (f.endsWith('.log')) bytes += statSync(path.join(dir, entry, f)).size;
      const p = Number(m[2]);
      out.set(p, Math.max(out.get(p) ?? 0, bytes));
    }
  }
  return out;
}

interface CommandStat {
  calls: number;
  usec: number;
}

/** One master's counters at an instant. */
interface NodeSnapshot {
  node: string;
  commands: Map<string, CommandStat>;
  cpuSec: number;
}

async function nodeSnapshot(node: Redis): Promise<NodeSnapshot> {
  const [stats, cpu] = await Promise.all([node.info('commandstats'), node.info('cpu')]);
  const commands = new Map<string, CommandStat>();
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    commands.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  const num = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return { node: `${node.options.host}:${node.options.port}`, commands, cpuSec: num('used_cpu_user') + num('used_cpu_sys') };
}

export const redisSnapshot = (redis: RedisClient): Promise<NodeSnapshot[]> => Promise.all(masters(redis).map(nodeSnapshot));

/** Per master: what the run added, per purchase (201). */
export interface ShardCost {
  node: string;
  calls: number;
  callsPerPurchase: number;
  /** Redis's own time in commands (commandstats usec), per purchase. */
  commandUsecPerPurchase: number;
  /** The server process's CPU (INFO cpu user + sys: commands, networking, replication), per purchase. */
  cpuUsecPerPurchase: number;
  /** The commands the run sent most, with calls and usec per call. */
  top: { command: string; calls: number; usecPerCall: number }[];
}

export function redisCost(before: NodeSnapshot[], after: NodeSnapshot[], purchases: number): ShardCost[] {
  const per = (n: number) => (purchases > 0 ? Math.round((n / purchases) * 100) / 100 : 0);
  return after.map((a) => {
    const b = before.find((x) => x.node === a.node);
    const delta = [...a.commands].map(([command, s]) => {
      const was = b?.commands.get(command) ?? { calls: 0, usec: 0 };
      return { command, calls: s.calls - was.calls, usec: s.usec - was.usec };
    });
    const calls = delta.reduce((n, d) => n + d.calls, 0);
    const usec = delta.reduce((n, d) => n + d.usec, 0);
    return {
      node: a.node,
      calls,
      callsPerPurchase: per(calls),
      commandUsecPerPurchase: per(usec),
      cpuUsecPerPurchase: per((a.cpuSec - (b?.cpuSec ?? 0)) * 1e6),
      top: delta
        .filter((d) => d.calls > 0)
        .sort((x, y) => y.calls - x.calls)
        .slice(0, 6)
        .map((d) => ({ command: d.command, calls: d.calls, usecPerCall: Math.round((d.usec / d.calls) * 100) / 100 })),
    };
  });
}

/** One partition of the tickets topic over a run. */
export interface PartitionCost {
  partition: number;
  records: number;
  bytes: number;
  bytesPerRecord: number;
}

export interface TopicSnapshot {
  offsets: Map<number, number>;
  bytes: Map<number, number>;
}

export async function topicSnapshot(kafka: EventLog, topic: string, logDirs: string[]): Promise<TopicSnapshot> {
  const ends = await kafka.endOffsets(topic);
  return { offsets: new Map(ends.map((e) => [e.partition, e.high])), bytes: partitionBytes(logDirs, topic) };
}

export function topicCost(before: TopicSnapshot, after: TopicSnapshot): PartitionCost[] {
  return [...after.offsets.keys()]
    .sort((a, b) => a - b)
    .map((partition) => {
      const records = (after.offsets.get(partition) ?? 0) - (before.offsets.get(partition) ?? 0);
      const bytes = (after.bytes.get(partition) ?? 0) - (before.bytes.get(partition) ?? 0);
      return { partition, records, bytes, bytesPerRecord: records > 0 ? Math.round(bytes / records) : 0 };
    });
}

/** CPU seconds of a set of processes, by name, at an instant. */
export const cpuSnapshot = (pids: Record<string, number[]>): Record<string, number> =>
  Object.fromEntries(Object.entries(pids).map(([name, list]) => [name, list.reduce((s, pid) => s + cpuSeconds(pid), 0)]));

/** CPU microseconds per purchase of each process group between two snapshots. */
export function cpuCost(before: Record<string, number>, after: Record<string, number>, purchases: number): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, purchases > 0 ? Math.round((((after[k] ?? 0) - (before[k] ?? 0)) * 1e6) / purchases) : 0]),
  );
}
