// TOPOLOGY=cluster: a Redis Cluster of 3 masters + 3 replicas from the machine's redis-server, on
// the nodes of REDIS_CLUSTER_NODES (scripts/topology/cluster.env: 127.0.0.1:7000…7005), AOF on,
// each node's data and nodes.conf in .services/cluster/redis-<port>/. Each node is a service of
// its own (pid file, log, health); the group creates the cluster once and waits until it is ready.
import fs from 'node:fs';
import path from 'node:path';
import { CMD, logFile, pidFile, rel, say, ServiceError, SERVICES_DIR, secs, tail, which } from './lib/common.mjs';
import { aptCommand, aptInstall } from './lib/install.mjs';
import { ensureOwned, stopOwned, withLock } from './lib/lifecycle.mjs';
import { pidFileDied, runLogged } from './lib/proc.mjs';
import { clusterReady, describeRole, ensureRedisCluster, nodePorts, nodeView, parseNodeList, redisNodeArgs } from './lib/redis-cluster.cjs';
import { localNodes } from './lib/topology-nodes.mjs';

const NODES = localNodes('REDIS_CLUSTER_NODES', parseNodeList);
const REPLICAS_PER_MASTER = 1;
const MASTERS = Math.floor(NODES.length / (REPLICAS_PER_MASTER + 1));
const DIR = path.join(SERVICES_DIR, 'cluster');

function member({ host, port }) {
  const name = `redis-${port}`;
  return {
    name,
    group: 'redis-cluster',
    host,
    port,
    ports: nodePorts(port),
    portEnv: 'REDIS_CLUSTER_NODES',
    portHint: '<host:port,…>',
    processMatch: 'redis-server',
    log: logFile(name),
    dataDir: path.join(DIR, name),
    deadlineMs: 20_000,
    stopDeadlineMs: 20_000,
    probe: () => nodeView(host, port),
    async role() {
      return describeRole(await nodeView(host, port));
    },
    missing: () => redisCluster.missing(),
    up() {
      return ensureOwned(this);
    },
    async start() {
      fs.mkdirSync(this.dataDir, { recursive: true });
      const pf = pidFile(name);
      const args = [...redisNodeArgs({ host, port, dir: this.dataDir }), '--daemonize', 'yes', '--pidfile', pf, '--logfile', this.log];
      say(name, `starting redis-server (cluster node) on ${host}:${port} (AOF and nodes.conf in ${rel(this.dataDir)})`);
      // with --daemonize the launcher forks, writes the pid file and exits at once
      const code = await runLogged(which('redis-server'), args, this.log);
      if (code !== 0)
        throw new ServiceError(
          `redis-server exited with ${code}; last lines of ${rel(this.log)}:\n${tail(this.log)}`,
          `read ${rel(this.log)}, fix the cause, then rerun \`${CMD.up('redis-cluster')}\``,
        );
      return pidFileDied(pf, 'redis-server');
    },
    stop() {
      return stopOwned(this);
    },
  };
}

/** Runs `fn` on every member at once; one error naming each member that failed. */
async function onEveryMember(members, fn, verb) {
  const results = await Promise.allSettled(members.map(fn));
  const failed = results.map((r, i) => [members[i], r]).filter(([, r]) => r.status === 'rejected');
  if (!failed.length) return;
  throw new ServiceError(
    failed.map(([m, r]) => `${m.name} failed to ${verb}: ${r.reason.message}`).join('\n'),
    failed.map(([m, r]) => r.reason.next ?? `read ${rel(m.log)}`).join('; '),
  );
}

export const redisCluster = {
  name: 'redis-cluster',
  address: `${NODES[0].host}:${NODES.map((n) => n.port).join(',')}`,
  members: NODES.map(member),
  log: logFile('redis-cluster'),
  deadlineMs: 60_000,
  probe: () => clusterReady({ host: NODES[0].host, ports: NODES.map((n) => n.port), masters: MASTERS, replicas: NODES.length - MASTERS }),
  missing() {
    return which('redis-server') && which('redis-cli')
      ? []
      : [
          {
            what: 'redis-server or redis-cli is not installed',
            how: aptCommand('redis-server'),
            install: () => aptInstall('redis-cluster', 'redis-server'),
          },
        ];
  },
  async up() {
    await onEveryMember(this.members, (m) => m.up(), 'start');
    // One `up` at a time creates the cluster; another waits here and then finds it ready.
    const { created, ms, detail } = await withLock(this.name, () =>
      ensureRedisCluster({
        host: NODES[0].host,
        ports: NODES.map((n) => n.port),
        replicasPerMaster: REPLICAS_PER_MASTER,
        redisCli: which('redis-cli'),
        log: this.log,
        deadlineMs: this.deadlineMs,
        note: (msg) => say(this.name, msg),
      }).catch((e) => {
        throw new ServiceError(
          `${e.message}; last lines of ${rel(this.log)}:\n${tail(this.log, 15)}`,
          e.next ?? `\`${CMD.status}\` shows each node's role; the nodes' logs are .services/logs/redis-<port>.log`,
        );
      }),
    );
    say(this.name, `${created ? 'created and ' : ''}ready after ${secs(ms)}: ${detail}`);
    return { started: created };
  },
  stop() {
    return onEveryMember(this.members, (m) => m.stop(), 'stop');
  },
};
