'use strict';
/**
 * Apache Kafka 4 in KRaft mode, every node both broker and controller: the one writer of
 * server.properties and of the java command lines, used by scripts/services/kafka.mjs (the
 * single broker), scripts/services/kafka-cluster.mjs (the cluster topology) and
 * test/support/private-cluster.ts (a test's own 3-broker cluster). Plain CommonJS so all three
 * load this same file.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { describeBrokers } = require('../../../src/stream/broker-probe.cjs');
const { pollUntil, withTimeout } = require('./wait.cjs');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LOG4J = path.join(ROOT, 'scripts', 'kafka', 'log4j2.properties');

/**
 * The nodes of a cluster from its bootstrap list ("host:port,…" as KAFKA_BROKERS has it): node
 * ids 1, 2, 3… in order, each controller on its broker's port + 1.
 */
function clusterNodes(brokers) {
  const list = Array.isArray(brokers) ? brokers : String(brokers).split(',');
  return list.map((hostPort, i) => {
    const m = /^([^:]+):(\d+)$/.exec(hostPort.trim());
    if (!m) throw new Error(`${hostPort} is not host:port (in ${list.join(',')})`);
    const port = Number(m[2]);
    return { id: i + 1, host: m[1], port, controllerPort: port + 1 };
  });
}

/**
 * server.properties of one node. `voters` are all controller nodes ({ id, host, controllerPort }),
 * `replicationFactor` / `minInsyncReplicas` apply to the topics created without their own
 * settings and to the internal topics (consumer offsets, transactions, share groups).
 */
function kafkaProperties({
  node,
  voters,
  dataDir,
  replicationFactor,
  minInsyncReplicas,
  partitions = 6,
  internalPartitions = 6,
  header = [],
  extra = {},
}) {
  const lines = [
    ...header.map((h) => `# ${h}`),
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${voters.map((v) => `${v.id}@${v.host}:${v.controllerPort}`).join(',')}`,
    'controller.listener.names=CONTROLLER',
    `listeners=PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${node.host}:${node.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${partitions}`,
    `default.replication.factor=${replicationFactor}`,
    `min.insync.replicas=${minInsyncReplicas}`,
    // An out-of-sync replica never becomes leader: an acknowledged record is never dropped.
    'unclean.leader.election.enable=false',
    `offsets.topic.replication.factor=${replicationFactor}`,
    `offsets.topic.num.partitions=${internalPartitions}`,
    `transaction.state.log.replication.factor=${replicationFactor}`,
    `transaction.state.log.min.isr=${minInsyncReplicas}`,
    `transaction.state.log.num.partitions=${internalPartitions}`,
    `share.coordinator.state.topic.replication.factor=${replicationFactor}`,
    `share.coordinator.state.topic.min.isr=${minInsyncReplicas}`,
    `share.coordinator.state.topic.num.partitions=${internalPartitions}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.retention.hours=168',
    'log.segment.bytes=268435456',
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A Kafka Uuid in its string form: 16 random bytes, URL-safe base64 without padding (never starting with '-'). */
function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * The cluster id kept in `idFile`; when that file is gone, the one storage in `dataDirs` was
 * formatted with, else a new one (written to `idFile`).
 */
function clusterId(idFile, dataDirs) {
  try {
    const id = fs.readFileSync(idFile, 'utf8').trim();
    if (id) return id;
  } catch {
    // no id file yet (first start): fall through to the formatted storage or a new id
  }
  let id = null;
  for (const dir of dataDirs) {
    try {
      id = /^cluster\.id=(.+)$/m.exec(fs.readFileSync(path.join(dir, 'meta.properties'), 'utf8'))?.[1]?.trim() ?? null;
    } catch {
      // this storage was never formatted
    }
    if (id) break;
  }
  id ||= newClusterId();
  fs.mkdirSync(path.dirname(idFile), { recursive: true });
  fs.writeFileSync(idFile, `${id}\n`);
  return id;
}

const isFormatted = (dataDir) => fs.existsSync(path.join(dataDir, 'meta.properties'));

/** JVM options every Kafka command of ours shares: the jars Maven resolved and our log4j2 setup. */
const jvmArgs = ({ libs, logDir }) => ['-cp', `${libs}/*`, `-Dlog4j2.configurationFile=${LOG4J}`, `-Dkafka.logs.dir=${logDir}`];

/** `java` arguments that format a node's storage (kafka-storage format). `jvm`: extra JVM options. */
const formatArgs = ({ libs, logDir, clusterId: id, props, jvm = [] }) => [
  ...jvm,
  ...jvmArgs({ libs, logDir }),
  'kafka.tools.StorageTool',
  'format',
  '--cluster-id',
  id,
  '--config',
  props,
  '--ignore-formatted',
];

/** `java` arguments that run a node. `heap` e.g. ['-Xms128m', '-Xmx512m']; `jvm`: extra JVM options. */
const serverArgs = ({ libs, logDir, heap, props, jvm = [] }) => [
  ...heap,
  ...jvm,
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-Djava.awt.headless=true',
  ...jvmArgs({ libs, logDir }),
  'kafka.Kafka',
  props,
];

/**
 * Waits until the cluster behind `brokers` ("host:port" list) has `expected` brokers registered.
 * Resolves the ids; rejects past the deadline with the last answer.
 */
async function waitKafkaBrokers({ brokers, expected, deadlineMs, note, died }) {
  let ids = [];
  await pollUntil({
    what: `${expected} Kafka brokers registered`,
    deadlineMs,
    note,
    died,
    everyMs: 500,
    check: async () => {
      const r = await describeBrokers({ brokers }, withTimeout);
      ids = r.brokers.map((b) => b.nodeId);
      return r.ok && ids.length >= expected ? r : { ok: false, detail: r.detail };
    },
  });
  return ids;
}

module.exports = { clusterId, clusterNodes, formatArgs, isFormatted, kafkaProperties, LOG4J, newClusterId, serverArgs, waitKafkaBrokers };
