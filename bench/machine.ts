import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { masters, type RedisClient } from '../src/shared/redis';
import type { SqlClient } from '../src/shared/sql';

function command(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** What the figures were measured on, so nobody compares them with another machine's blindly. */
export async function describeMachine(redis: RedisClient, sql: SqlClient): Promise<Record<string, unknown>> {
  const lscpu = command('lscpu', []) ?? '';
  const model = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const redisInfo = await masters(redis)[0]!.info('server');
  const [version] = await sql.select('SELECT VERSION() AS v', []);
  return {
    cpuModel: model,
    nproc: Number(command('nproc', []) ?? os.availableParallelism()),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    mariadb: String(version?.v ?? 'unknown'),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    note: 'driver, api server, Redis, Kafka and MariaDB all share this machine',
  };
}
