// TOPOLOGY=cluster: three Apache Kafka 4 KRaft nodes (each broker + controller) on the brokers of
// KAFKA_BROKERS (scripts/topology/cluster.env: 9192, 9292, 9392; controllers on port + 1), beside
// the single broker on 9092. Replication factor 3 and min.insync.replicas 2 for every topic,
// internal ones included; no unclean leader election. Same jars as the single broker (kafka.mjs);
// each node's server.properties and data in .services/cluster/kafka-<id>/.
import fs from 'node:fs';
import path from 'node:path';
import { CMD, LOG_DIR, logFile, rel, require, ROOT, say, ServiceError, SERVICES_DIR, secs, tail, withTimeout } from './lib/common.mjs';
import { clusterId, clusterNodes, formatArgs, isFormatted, kafkaProperties, serverArgs, waitKafkaBrokers } from './lib/kafka-config.cjs';
import { ensureOwned, stopOwned } from './lib/lifecycle.mjs';
import { childDied, isPortOpen, runLogged, spawnDetached } from './lib/proc.mjs';
import { localNodes } from './lib/topology-nodes.mjs';
import { kafka, LIBS } from './kafka.mjs';

const NODES = localNodes('KAFKA_BROKERS', clusterNodes);
const BROKERS = NODES.map((n) => `${n.host}:${n.port}`);
const REPLICATION_FACTOR = Math.min(3, NODES.length);
const MIN_INSYNC = Math.max(1, REPLICATION_FACTOR - 1);
const HEAP = (process.env.KAFKA_CLUSTER_HEAP_OPTS || '-Xms128m -Xmx512m').split(/\s+/).filter(Boolean);
const PROBE_TOPIC = '__services_probe';
const DIR = path.join(SERVICES_DIR, 'cluster');
const CLUSTER_ID = path.join(DIR, 'kafka.cluster.id');
const dataDir = (node) => path.join(DIR, `kafka-${node.id}`, 'data');
const { describeBrokers, probeBroker } = require(path.join(ROOT, 'src', 'stream', 'broker-probe.cjs'));

function member(node) {
  const name = `kafka-${node.id}`;
  const props = path.join(DIR, name, 'server.properties');
  const data = dataDir(node);
  return {
    name,
    group: 'kafka-cluster',
    port: node.port,
    ports: [node.port, node.controllerPort],
    portEnv: 'KAFKA_BROKERS',
    portHint: '<host:port,…> (controllers on port + 1)',
    processMatch: 'kafka.Kafka',
    log: logFile(name),
    deadlineMs: 120_000,
    stopDeadlineMs: 60_000,
    /** Healthy: it answers and the cluster, as it sees it, has it registered as a broker. */
    async probe() {
      if (!(await isPortOpen(node.port))) return { ok: false, listening: false, detail: `nothing listening on ${node.host}:${node.port}` };
      const r = await describeBrokers({ brokers: [`${node.host}:${node.port}`] }, withTimeout);
      if (!r.ok) return { ...r, listening: true };
      if (!r.brokers.some((b) => b.nodeId === node.id))
        return { ok: false, listening: true, detail: `answers, but broker ${node.id} is not registered yet (${r.detail})` };
      return { ok: true, detail: `broker ${node.id} registered; ${r.detail}` };
    },
    role: async () => `broker ${node.id}, controller ${node.host}:${node.controllerPort}`,
    missing: () => kafka.missing(),
    up() {
      return ensureOwned(this);
    },
    async start() {
      fs.mkdirSync(data, { recursive: true });
      fs.writeFileSync(
        props,
        kafkaProperties({
          header: [
            'Written by scripts/services/kafka-cluster.mjs on every start; edit the script, not this file.',
            `Node ${node.id} of ${NODES.length} of the cluster topology: broker and KRaft controller in one process.`,
          ],
          node,
          voters: NODES,
          dataDir: data,
          replicationFactor: REPLICATION_FACTOR,
          minInsyncReplicas: MIN_INSYNC,
        }),
      );
      if (!isFormatted(data)) {
        const id = clusterId(CLUSTER_ID, NODES.map(dataDir));
        say(name, `formatting storage in ${rel(data)} (cluster id ${id})`);
        const code = await runLogged('java', formatArgs({ libs: LIBS, logDir: LOG_DIR, clusterId: id, props }), this.log);
        if (code !== 0)
          throw new ServiceError(
            `kafka-storage format failed (exit ${code}); last lines of ${rel(this.log)}:\n${tail(this.log)}`,
            `read ${rel(this.log)}; if ${rel(DIR)}/kafka-* hold nothing you need, delete them and ${rel(CLUSTER_ID)} and rerun \`${CMD.up('kafka-cluster')}\``,
          );
      }
      say(name, `starting Kafka node ${node.id} (broker ${node.host}:${node.port}, controller ${node.host}:${node.controllerPort})`);
      return childDied(
        spawnDetached(name, 'java', serverArgs({ libs: LIBS, logDir: LOG_DIR, heap: HEAP, props })),
        `the Kafka JVM of node ${node.id}`,
      );
    },
    stop() {
      return stopOwned(this);
    },
  };
}

export const kafkaCluster = {
  name: 'kafka-cluster',
  address: `${NODES[0].host}:${NODES.map((n) => n.port).join(',')}`,
  members: NODES.map(member),
  log: logFile('kafka-cluster'),
  deadlineMs: 120_000,
  /** Ready: every broker registered, and a topic of replication factor 3 can be created. */
  async probe() {
    const open = await Promise.all(NODES.map((n) => isPortOpen(n.port)));
    const closed = NODES.filter((_, i) => !open[i]);
    if (closed.length === NODES.length) return { ok: false, listening: false, detail: `no broker answers on ${this.address}` };
    const r = await describeBrokers({ brokers: BROKERS }, withTimeout);
    if (!r.ok) return r;
    if (closed.length)
      return { ok: false, detail: `nothing listening on ${closed.map((n) => `${n.host}:${n.port}`).join(', ')}; ${r.detail}` };
    if (r.brokers.length < NODES.length) return { ok: false, detail: `${r.detail}, want ${NODES.length}` };
    const topic = await probeBroker(
      { host: NODES[0].host, port: NODES[0].port, probeTopic: PROBE_TOPIC, replicationFactor: REPLICATION_FACTOR },
      withTimeout,
    );
    return topic.ok ? { ok: true, detail: `${r.detail}; RF ${REPLICATION_FACTOR}, min ISR ${MIN_INSYNC}` } : topic;
  },
  missing: () => kafka.missing(),
  async up() {
    const t0 = Date.now();
    fs.mkdirSync(DIR, { recursive: true });
    clusterId(CLUSTER_ID, NODES.map(dataDir)); // one id for the three, before they format in parallel
    // All at once: a node's broker registers only once a majority of the controllers runs.
    const results = await Promise.allSettled(this.members.map((m) => m.up()));
    const failed = results.map((r, i) => [this.members[i], r]).filter(([, r]) => r.status === 'rejected');
    if (failed.length)
      throw new ServiceError(
        failed.map(([m, r]) => `${m.name} failed to start: ${r.reason.message}`).join('\n'),
        failed.map(([m, r]) => r.reason.next ?? `read ${rel(m.log)}`).join('; '),
      );
    const ids = await waitKafkaBrokers({
      brokers: BROKERS,
      expected: NODES.length,
      deadlineMs: this.deadlineMs,
      note: (msg) => say(this.name, msg),
    }).catch((e) => {
      throw new ServiceError(e.message, `read ${this.members.map((m) => rel(m.log)).join(', ')}`);
    });
    const ready = await this.probe();
    if (!ready.ok)
      throw new ServiceError(
        `brokers ${ids.join(', ')} registered, but ${ready.detail}`,
        `read ${this.members.map((m) => rel(m.log)).join(', ')}`,
      );
    say(this.name, `ready after ${secs(Date.now() - t0)}: ${ready.detail}`);
    return { started: results.some((r) => r.value?.started) };
  },
  /** All at once: the node stopped last would otherwise wait for a controller quorum that is gone (over a minute). */
  async stop() {
    await Promise.all(this.members.map((m) => m.stop()));
  },
};
