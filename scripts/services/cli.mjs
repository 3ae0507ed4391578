#!/usr/bin/env node
// Local backing services for development and tests, without Docker:
//   redis (ours, AOF on)  127.0.0.1:6390   redis-server --daemonize          (redis.mjs)
//   mariadb               127.0.0.1:3306   the machine's MariaDB, started only if nothing answers (mariadb.mjs)
//   kafka (KRaft, 4.x)    127.0.0.1:9092   jars resolved by Maven from scripts/kafka/pom.xml (kafka.mjs)
//   dynalite              127.0.0.1:8000   node_modules/.bin/dynalite, DynamoDB API (dynalite.mjs)
//
// Usage: node scripts/services/cli.mjs up|down|status|install [--only redis,kafka,...]
//        (npm run services:up|down|status|install [-- --only …])
//
//   install  install what the services need and is missing (apt-get, Maven); nothing else does.
//            Also the optional tools (wrk.mjs: the bench's wrk); a tool that cannot be installed
//            (no apt-get, not root) is reported with its command and does not fail the install.
//   up       start what is not healthy yet (concurrently), wait until everything is healthy, exit 0.
//            A service already healthy on its port is left alone, whoever started it. Never
//            installs: when something is missing it prints the `services:install` command.
//   down     stop only what `up` started (the pid files in .services/), keep all data.
//   status   one line per service; exit 0 when all are healthy, else 1.
//
// Everything lives in .services/ (git-ignored): logs/<name>.log, <name>/ data, <name>.pid.
// Ports can be moved with REDIS_PORT, MYSQL_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, DYNALITE_PORT,
// and .services/ itself with TICKETING_SERVICES_DIR (test/foundation/services-cli.test.ts does).
//
// TOPOLOGY=cluster (scripts/topology/cluster.env) swaps Redis and Kafka for clusters beside them:
//   redis-cluster  127.0.0.1:7000…7005  3 masters + 3 replicas, AOF, .services/cluster/redis-<port>/  (redis-cluster.mjs)
//   kafka-cluster  127.0.0.1:9192,9292,9392 (controllers 9193,9293,9393)  RF 3, min ISR 2             (kafka-cluster.mjs)
// with MariaDB and dynalite as above. `status` then shows every node (port, pid, role). Their
// ports come from REDIS_CLUSTER_NODES and KAFKA_BROKERS, the variables the platform reads.
import fs from 'node:fs';
import { applyTopologyOrExit } from '../topology/topology.cjs';
import { CMD, HOST, LOG_DIR, rel, say, ServiceError, secs } from './lib/common.mjs';
import { listenerPid, ourPid } from './lib/proc.mjs';
import { dynalite } from './dynalite.mjs';
import { kafka } from './kafka.mjs';
import { mariadb } from './mariadb.mjs';
import { redis } from './redis.mjs';
import { wrk } from './wrk.mjs';

const TOPOLOGY = applyTopologyOrExit().name;
/** The services of each topology; the cluster modules load only when used (they read its variables). */
const TOPOLOGIES = {
  single: async () => [redis, mariadb, kafka, dynalite],
  cluster: async () => [
    (await import('./redis-cluster.mjs')).redisCluster,
    mariadb,
    (await import('./kafka-cluster.mjs')).kafkaCluster,
    dynalite,
  ],
};
if (!TOPOLOGIES[TOPOLOGY]) {
  console.error(`[services] TOPOLOGY=${TOPOLOGY} has no services in scripts/services/cli.mjs; use ${Object.keys(TOPOLOGIES).join(' or ')}`);
  process.exit(2);
}
const SERVICES = await TOPOLOGIES[TOPOLOGY]();
/** Installed by `install` like a service's packages, never started: only `install` takes them. */
const TOOLS = [wrk];
const address = (svc) => svc.address ?? `${HOST}:${svc.port}`;

function reportFailures(services, results, verb) {
  const failed = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const svc = services[i];
    const e = r.reason;
    failed.push(svc.name);
    console.error(`[services] ${svc.name}: FAILED${verb ? ` to ${verb}` : ''}: ${e.message}`);
    console.error(`[services] ${svc.name}: next: ${e.next ?? `read ${rel(svc.log)}`}`);
    if (!(e instanceof ServiceError) && e.stack) console.error(e.stack);
  });
  return failed;
}

async function cmdUp(services) {
  const t0 = Date.now();
  say('up', `ensuring ${services.map((s) => s.name).join(', ')}…`);
  const failed = reportFailures(services, await Promise.allSettled(services.map((s) => s.up())));
  if (failed.length) {
    console.error(
      `[services] up: ${failed.join(', ')} not healthy after ${secs(Date.now() - t0)}; \`${CMD.status}\` shows the state of each`,
    );
    return 1;
  }
  say('up', `all healthy (${services.map((s) => `${s.name} ${address(s)}`).join(', ')}) in ${secs(Date.now() - t0)}`);
  return 0;
}

/** Installs, in each service's order, what it lacks; services in parallel (apt itself runs one at a time). */
async function cmdInstall(services) {
  const installOne = async (svc) => {
    const needs = await (svc.missingWhenDown ?? svc.missing).call(svc);
    if (!needs.length) return say(svc.name, 'nothing to install');
    for (const need of needs) {
      if (!need.install) {
        if (svc.optional) return say(svc.name, `${need.what}; skipped (no apt-get here); to have it: ${need.how}`);
        throw new ServiceError(need.what, `do it by hand: ${need.how}`);
      }
      try {
        await need.install();
      } catch (e) {
        if (!svc.optional) throw e;
        return say(svc.name, `optional, not installed: ${e.message}; ${e.next ?? `to have it: ${need.how}`}`);
      }
    }
    const left = svc.missing();
    if (left.length && !svc.missingWhenDown)
      throw new ServiceError(
        `still missing after installing: ${left.map((m) => m.what).join('; ')}`,
        'read .services/logs/apt.log and .services/logs/kafka-maven.log',
      );
  };
  const failed = reportFailures(services, await Promise.allSettled(services.map(installOne)), 'install');
  if (failed.length) return 1;
  say('install', `done; \`${CMD.up()}\` starts the services`);
  return 0;
}

async function cmdDown(services) {
  const failed = reportFailures(services, await Promise.allSettled(services.map((s) => s.stop())), 'stop');
  return failed.length ? 1 : 0;
}

/** One status line's fields for a service, or for one node of a cluster. */
async function statusRow(svc) {
  const probe = await svc.probe();
  const pid = ourPid(svc);
  const external = !pid && probe.listening !== false ? listenerPid(svc.port) : null;
  return {
    name: svc.name,
    port: address(svc),
    health: probe.ok ? 'healthy' : 'UNHEALTHY',
    owner: pid ? 'started-by-us' : probe.ok || probe.listening ? 'external' : '-',
    pid: pid ? `pid ${pid}` : external ? `pid ${external}` : 'pid -',
    role: svc.role && probe.listening !== false ? await svc.role() : '',
    log: pid || fs.existsSync(svc.log) ? rel(svc.log) : '-',
    detail: probe.ok ? '' : `  (${probe.detail})`,
    ok: probe.ok,
  };
}

/** A cluster: a line per node, then the cluster's own (is it ready as a whole?). */
async function clusterRows(svc) {
  const nodes = await Promise.all(svc.members.map(statusRow));
  const probe = await svc.probe();
  const whole = {
    name: svc.name,
    port: address(svc),
    health: probe.ok ? 'healthy' : 'UNHEALTHY',
    owner: '',
    pid: '',
    role: probe.ok ? probe.detail : '',
    log: '-',
    detail: probe.ok ? '' : `  (${probe.detail})`,
    ok: probe.ok,
  };
  return [...nodes, whole];
}

async function cmdStatus(services) {
  const rows = (await Promise.all(services.map(async (svc) => (svc.members ? clusterRows(svc) : [await statusRow(svc)])))).flat();
  const width = (k) => Math.max(...rows.map((r) => r[k].length));
  const roles = rows.some((r) => r.role);
  for (const r of rows) {
    const role = roles ? `  ${r.role.padEnd(width('role'))}` : '';
    console.log(
      `[services] ${r.name.padEnd(width('name'))}  ${r.port.padEnd(width('port'))}  ${r.health.padEnd(9)}  ${r.owner.padEnd(13)}  ${r.pid.padEnd(width('pid'))}${role}  log ${r.log}${r.detail}`,
    );
  }
  const bad = [...new Set(rows.filter((r) => !r.ok).map((r) => r.name))];
  if (bad.length) console.log(`[services] not healthy: ${bad.join(', ')}; run \`${CMD.up()}\``);
  return bad.length ? 1 : 0;
}

const COMMANDS = { up: cmdUp, down: cmdDown, status: cmdStatus, install: cmdInstall };

function usage(message) {
  if (message) console.error(`[services] ${message}`);
  console.error(
    `usage: node scripts/services/cli.mjs ${Object.keys(COMMANDS).join('|')} [--only ${SERVICES.map((s) => s.name).join(',')}]`,
  );
  return 2;
}

async function main(argv) {
  const [command, ...rest] = argv;
  let only = null;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--only') only = rest[++i];
    else if (a.startsWith('--only=')) only = a.slice('--only='.length);
    else return usage(`unknown argument ${a}`);
  }
  const run = COMMANDS[command];
  if (!run) return usage(command ? `unknown command ${command}` : 'missing command');
  const known = command === 'install' ? [...SERVICES, ...TOOLS] : SERVICES;
  let services = known;
  if (only !== null) {
    const names = (only ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !known.some((s) => s.name === n));
    if (!names.length || unknown.length)
      return usage(
        `--only takes a comma-separated subset of ${known.map((s) => s.name).join(',')}${unknown.length ? ` (unknown: ${unknown.join(', ')}${unknown.some((n) => TOOLS.some((t) => t.name === n)) ? '; a tool is only installed, never started' : ''})` : ''}`,
      );
    services = known.filter((s) => names.includes(s.name));
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  return run(services);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[services] unexpected error: ${e.stack ?? e}`);
    console.error('[services] next: rerun with the same arguments; if it repeats, read the logs in .services/logs/');
    process.exit(1);
  },
);
