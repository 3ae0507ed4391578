import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, KAFKA_LIBS } from './private-kafka';
import { freePort, ROOT } from './process';

/*
 * The same code as `TOPOLOGY=cluster npm run services:up` (scripts/services/lib/*.cjs): node
 * command lines, server.properties, cluster creation and readiness. Loaded from the checkout's
 * root so it works from source (ts-jest) and compiled into dist/ alike.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS shared with scripts/services, see above */
const redisLib = require(
  path.join(ROOT, 'scripts', 'services', 'lib', 'redis-cluster.cjs'),
) as typeof import('../../scripts/services/lib/redis-cluster.cjs');
const kafkaLib = require(
  path.join(ROOT, 'scripts', 'services', 'lib', 'kafka-config.cjs'),
) as typeof import('../../scripts/services/lib/kafka-config.cjs');
const { pollUntil } = require(
  path.join(ROOT, 'scripts', 'services', 'lib', 'wait.cjs'),
) as typeof import('../../scripts/services/lib/wait.cjs');
/* eslint-enable @typescript-eslint/no-require-imports */
type KafkaNode = import('../../scripts/services/lib/kafka-config.cjs').KafkaNode;

const HOST = '127.0.0.1';
const MASTERS = 3;
const REPLICAS_PER_MASTER = 1;
const KAFKA_NODES = 3;
/**
 * The JIT's first tier only: a test's brokers start in about half the time on two shared cores
 * (measured 23 s → 10.5 s for three), at some cost in peak throughput a failover test does not need.
 */
const QUICK_JVM = ['-XX:TieredStopAtLevel=1'];

export interface PrivateClusterOptions {
  /** Also start a 3-broker Kafka (RF 3, min ISR 2). Default false: Redis only. */
  kafka?: boolean;
  /** cluster-node-timeout: how long a master may be unreachable before its replica takes over (default 5000). */
  redisNodeTimeoutMs?: number;
  /** Extra server.properties of every broker, e.g. a shorter broker.session.timeout.ms. */
  kafkaProperties?: Record<string, string | number>;
}

export interface PrivateCluster {
  readonly dir: string;
  /** "127.0.0.1:port" of the 6 Redis nodes (the REDIS_CLUSTER_NODES of a platform on it). */
  readonly nodes: string[];
  /** "127.0.0.1:port" of the 3 brokers (the KAFKA_BROKERS of a platform on it); empty without `kafka`. */
  readonly brokers: string[];
  /** Signals the node (Redis or Kafka) on `port`: SIGKILL (default) and SIGTERM wait until it exited; SIGSTOP/SIGCONT freeze and thaw it. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the node on `port` again with its data (AOF, nodes.conf; KRaft log), stopping it first if it runs; resolves once the cluster is ready with it. */
  restart(port: number): Promise<void>;
  /** Port of the live master serving a slot, or a key's slot, in the cluster's current view. */
  masterOf(slotOrKey: number | string): Promise<number>;
  /** Ports of the live replicas following the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /**
   * Waits until the running nodes form a ready cluster: Redis with 3 masters serving all slots and
   * every running replica in sync (after a master's death: its replica promoted); Kafka with every
   * running broker listening and registered (a killed broker stays registered until its session
   * times out: broker.session.timeout.ms, 9 s unless `kafkaProperties` lowers it).
   */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Last lines of a node's log, for a failing test's message. */
  logs(port: number, lines?: number): string;
  /** Kills every node and deletes the folder. */
  stop(): Promise<void>;
}

interface Node {
  kind: 'redis' | 'kafka';
  port: number;
  log: string;
  command: string;
  args: string[];
  child?: ChildProcess;
}

// Nodes never outlive the test process, even when jest stops a worker abruptly.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

const alive = (n: Node) => !!n.child && n.child.exitCode === null && n.child.signalCode === null;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** A free port none of this cluster's nodes uses yet. */
async function freeDistinctPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await freePort();
    if (!taken.has(port)) return taken.add(port) && port;
  }
  throw new Error('no free port found in 100 tries');
}

/** `count` free ports whose cluster bus ports (port + 10000) are free too, for Redis cluster nodes. */
export async function freeRedisPorts(count: number, taken = new Set<number>()): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freeRedisPort(taken));
  return ports;
}

/** A free port whose cluster bus (port + 10000) is free too. */
async function freeRedisPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await freePort();
    const bus = redisLib.nodePorts(port)[1]!;
    if (bus <= 65535 && !taken.has(port) && !taken.has(bus) && (await canListen(bus))) {
      taken.add(port).add(bus);
      return port;
    }
  }
  throw new Error('no free port pair (port, port + 10000) for a Redis cluster node found in 100 tries');
}

function launch(node: Node): void {
  const fd = openSync(node.log, 'a');
  try {
    node.child = spawn(node.command, node.args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const child = node.child;
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
}

function runToEnd(command: string, args: string[], log: string): Promise<void> {
  const fd = openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.slice(-6).join(' ')} exited with ${code}; see ${log}`)),
    );
  });
}

async function signal(node: Node, sig: NodeJS.Signals): Promise<void> {
  const child = node.child;
  if (!child || !alive(node)) {
    if (sig === 'SIGSTOP' || sig === 'SIGCONT')
      throw new Error(`node ${node.port} is not running: restart(${node.port}) it before sending ${sig}`);
    return;
  }
  if (sig === 'SIGSTOP' || sig === 'SIGCONT') {
    child.kill(sig);
    return;
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(sig);
  await exited;
}

/**
 * A Redis Cluster of the test's own (3 masters + 3 replicas, AOF) and optionally a 3-broker
 * Kafka (KRaft, RF 3, min ISR 2), on free ports in a temp folder, from the same redis-server and
 * Kafka jars as the services. A test may kill, freeze and restart nodes without disturbing the
 * shared services. Call stop() in afterAll.
 */
/**
 * One private 3-broker Kafka at a time on this machine: two of them (6 JVMs) beside the rest of
 * the suite starve a 2-core machine, and a KRaft quorum that lost two voters was then seen not to
 * re-form within two minutes. A lock file with the holder's pid, taken in turn (a dead holder's
 * lock is taken over); released by `stop`.
 */
const KAFKA_CLUSTER_LOCK = path.join(os.tmpdir(), 'tp-private-kafka-cluster.lock');

/** The pid in the lock file (NaN if unreadable), or undefined once the file is gone. */
function lockHolder(): number | undefined {
  try {
    return Number(readFileSync(KAFKA_CLUSTER_LOCK, 'utf8') || NaN);
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

async function takeKafkaClusterLock(deadlineMs = 15 * 60_000): Promise<() => void> {
  const t0 = Date.now();
  for (;;) {
    try {
      const fd = openSync(KAFKA_CLUSTER_LOCK, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(KAFKA_CLUSTER_LOCK, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = lockHolder();
    if (holder === undefined) continue; // released meanwhile: take it
    // No pid yet (written just after the file is made): taken, by someone alive.
    const alive = !(Number.isInteger(holder) && holder > 0) || pidAlive(holder);
    if (!alive && Date.now() - t0 > 2000) rmSync(KAFKA_CLUSTER_LOCK, { force: true });
    if (Date.now() - t0 > deadlineMs)
      throw new Error(
        `another test's private Kafka cluster (pid ${holder}) held ${KAFKA_CLUSTER_LOCK} for too long; remove it if no test runs`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `{ ok }` once every partition of every topic has its whole replica set in sync. */
async function underReplicated(brokers: string[]): Promise<{ ok: boolean; detail: string }> {
  const admin = new Kafka({ clientId: 'private-cluster-isr', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: await admin.listTopics() });
    const behind = topics.flatMap((t) =>
      t.partitions.filter((p) => p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId} isr ${p.isr.join(',')}`),
    );
    return {
      ok: behind.length === 0,
      detail: behind.length ? `${behind.length} under-replicated, e.g. ${behind.slice(0, 3).join('; ')}` : 'all in sync',
    };
  } catch (e) {
    return { ok: false, detail: `Kafka metadata failed: ${(e as Error).message}` };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startPrivateCluster(opts: PrivateClusterOptions = {}): Promise<PrivateCluster> {
  const release = opts.kafka ? await takeKafkaClusterLock() : () => undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tp-cluster-'));
  const taken = new Set<number>();
  const redisPorts = await freeRedisPorts(MASTERS * (REPLICAS_PER_MASTER + 1), taken);
  const redisNodes: Node[] = redisPorts.map((port) => {
    const nodeDir = path.join(dir, `redis-${port}`);
    mkdirSync(nodeDir);
    const log = path.join(nodeDir, 'redis.log');
    const args = [...redisLib.redisNodeArgs({ host: HOST, port, dir: nodeDir, nodeTimeoutMs: opts.redisNodeTimeoutMs }), '--logfile', log];
    return { kind: 'redis', port, log, command: 'redis-server', args };
  });
  const kafkaNodes: Node[] = [];
  const brokerSpecs: KafkaNode[] = [];
  if (opts.kafka) {
    ensureKafkaJars();
    for (let id = 1; id <= KAFKA_NODES; id++)
      brokerSpecs.push({ id, host: HOST, port: await freeDistinctPort(taken), controllerPort: await freeDistinctPort(taken) });
    for (const b of brokerSpecs) {
      const nodeDir = path.join(dir, `kafka-${b.id}`);
      mkdirSync(nodeDir);
      const props = path.join(nodeDir, 'server.properties');
      writeFileSync(
        props,
        kafkaLib.kafkaProperties({
          header: ['Written by test/support/private-cluster.ts (scripts/services/lib/kafka-config.cjs).'],
          node: b,
          voters: brokerSpecs,
          dataDir: path.join(nodeDir, 'data'),
          replicationFactor: KAFKA_NODES,
          minInsyncReplicas: KAFKA_NODES - 1,
          partitions: 3,
          internalPartitions: 3,
          extra: opts.kafkaProperties,
        }),
      );
      const args = kafkaLib.serverArgs({ libs: KAFKA_LIBS, logDir: nodeDir, heap: ['-Xms128m', '-Xmx384m'], props, jvm: QUICK_JVM });
      kafkaNodes.push({ kind: 'kafka', port: b.port, log: path.join(nodeDir, 'kafka.log'), command: 'java', args });
    }
  }
  const all = [...redisNodes, ...kafkaNodes];
  const byPort = (port: number): Node => {
    const n = all.find((x) => x.port === port);
    if (!n)
      throw new Error(
        `no node of this private cluster on port ${port} (Redis ${redisPorts.join(',')}; Kafka ${kafkaNodes.map((k) => k.port).join(',') || 'none'})`,
      );
    return n;
  };
  const liveRedis = () => redisNodes.filter(alive).map((n) => n.port);
  const liveBrokers = () => kafkaNodes.filter(alive).map((n) => `${HOST}:${n.port}`);
  const view = async () => {
    for (const port of liveRedis()) {
      const v = await redisLib.nodeView(HOST, port);
      if (v.ok) return v;
    }
    throw new Error(`no Redis node of the private cluster answers (${redisPorts.join(',')})`);
  };
  const describe = () => all.map((n) => `${n.kind} ${n.port}: ${alive(n) ? 'running' : 'stopped'}, log ${n.log}`).join('\n');

  const redisReady = (timeoutMs: number) =>
    pollUntil({
      what: 'the private Redis cluster',
      deadlineMs: timeoutMs,
      everyMs: 200,
      check: () => redisLib.clusterReady({ host: HOST, ports: liveRedis(), masters: MASTERS, replicas: liveRedis().length - MASTERS }),
    });
  const kafkaReady = async (timeoutMs: number) => {
    if (!liveBrokers().length) return;
    const t0 = Date.now();
    // A broker opens its port once it has started; then the cluster must list it.
    await pollUntil({
      what: 'the private brokers to listen',
      deadlineMs: timeoutMs,
      everyMs: 200,
      check: async () => {
        const open = await Promise.all(kafkaNodes.filter(alive).map((n) => listening(n.port)));
        return { ok: open.every(Boolean), detail: `${open.filter(Boolean).length}/${open.length} brokers listen` };
      },
    });
    await kafkaLib.waitKafkaBrokers({
      brokers: liveBrokers(),
      expected: liveBrokers().length,
      deadlineMs: Math.max(5000, timeoutMs - (Date.now() - t0)),
    });
    // With every broker up, ready also means fully replicated. A restarted broker that has not
    // caught up yet is outside the ISR of some partitions; a next fault that kills the other two
    // would then leave those partitions leaderless for good, because Kafka 4.1's eligible leader
    // replicas never elect a broker back from an unclean shutdown. Ops wait for zero
    // under-replicated partitions before the next fault, and so does a test.
    if (kafkaNodes.every(alive))
      await pollUntil({
        what: 'every partition of the private Kafka fully in sync',
        deadlineMs: Math.max(5000, timeoutMs - (Date.now() - t0)),
        everyMs: 500,
        check: () => underReplicated(liveBrokers()),
      });
  };
  const waitReady = async (timeoutMs = 60_000) => {
    try {
      await Promise.all([redisReady(timeoutMs), kafkaReady(timeoutMs)]);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${describe()}`, { cause: e });
    }
  };

  const cluster: PrivateCluster = {
    dir,
    nodes: redisPorts.map((p) => `${HOST}:${p}`),
    brokers: kafkaNodes.map((n) => `${HOST}:${n.port}`),
    kill: (port, sig = 'SIGKILL') => signal(byPort(port), sig),
    async restart(port) {
      const node = byPort(port);
      await signal(node, 'SIGTERM');
      launch(node);
      // A restarted KRaft voter may first have to re-form the quorum (two of three were down):
      // slower than a first start on a loaded machine.
      await waitReady(120_000);
      if (!alive(node)) throw new Error(`${node.kind} node ${port} exited after its restart:\n${cluster.logs(port)}`);
    },
    async masterOf(slotOrKey) {
      const v = await view();
      const slot = typeof slotOrKey === 'number' ? slotOrKey : await redisLib.keySlot(HOST, v.port, slotOrKey);
      const master = redisLib.masterOfSlot(v, slot);
      if (!master) throw new Error(`no live master serves slot ${slot} in ${v.port}'s view; waitReady() first`);
      return master.port;
    },
    async replicasOf(port) {
      const v = await view();
      const master = v.nodes!.find((n) => n.port === port && n.role === 'master');
      if (!master) throw new Error(`${port} is not a master in ${v.port}'s view`);
      return v.nodes!.filter((n) => n.role === 'replica' && !n.failed && n.masterId === master.id).map((n) => n.port);
    },
    waitReady,
    logs(port, lines = 40) {
      const { log } = byPort(port);
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n') : `(no log at ${log})`;
    },
    async stop() {
      await Promise.all(all.map((n) => signal(n, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
      release();
    },
  };

  try {
    // Kafka first: its JVMs take longest. Every broker formats, then all start together (a
    // broker registers only once a majority of the controllers runs).
    const id = kafkaLib.newClusterId();
    const kafkaUp = Promise.all(
      brokerSpecs.map((b, i) =>
        runToEnd(
          'java',
          kafkaLib.formatArgs({
            libs: KAFKA_LIBS,
            logDir: dir,
            clusterId: id,
            props: path.join(dir, `kafka-${b.id}`, 'server.properties'),
          }),
          kafkaNodes[i]!.log,
        ),
      ),
    ).then(() => kafkaNodes.forEach(launch));
    redisNodes.forEach(launch);
    await pollUntil({
      what: 'the private Redis nodes',
      deadlineMs: 20_000,
      everyMs: 100,
      died: () => (redisNodes.every(alive) ? null : `redis-server exited:\n${describe()}`),
      check: async () => {
        const views = await Promise.all(redisPorts.map((p) => redisLib.nodeView(HOST, p)));
        return { ok: views.every((v) => v.ok), detail: views.map((v) => v.detail).join('; ') };
      },
    });
    await redisLib.ensureRedisCluster({
      host: HOST,
      ports: redisPorts,
      replicasPerMaster: REPLICAS_PER_MASTER,
      redisCli: 'redis-cli',
      log: path.join(dir, 'redis-cli.log'),
    });
    await kafkaUp;
    await waitReady(120_000);
    const dead = all.filter((n) => !alive(n));
    if (dead.length) throw new Error(`${dead.map((n) => `${n.kind} ${n.port}`).join(', ')} exited during start-up`);
    return cluster;
  } catch (e) {
    const logs = all.map((n) => `--- ${n.kind} ${n.port}\n${cluster.logs(n.port, 15)}`).join('\n');
    await cluster.stop();
    throw new Error(`the private cluster did not start: ${(e as Error).message}\n${logs}`, { cause: e });
  }
}
