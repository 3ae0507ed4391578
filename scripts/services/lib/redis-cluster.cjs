'use strict';
/**
 * Redis Cluster from the machine's redis-server: the one place that knows a node's command line,
 * how the cluster is created (`redis-cli --cluster create`) and when it is ready. Used by
 * scripts/services/redis-cluster.mjs (the cluster topology, daemonized nodes) and by
 * test/support/private-cluster.ts (a test's own cluster, child processes). Plain CommonJS so
 * both load this same file.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const { Redis } = require('ioredis');
const { pollUntil } = require('./wait.cjs');

const SLOTS = 16384;

/**
 * redis-server arguments of one cluster node, persisting like the single Redis (AOF, fsync every
 * second) in `dir`, where nodes.conf (its identity and view of the cluster) survives restarts, so
 * a restarted node rejoins. `nodeTimeoutMs` is how long a master may be unreachable before its
 * replica takes over.
 */
const redisNodeArgs = ({ host, port, dir, nodeTimeoutMs = 5000 }) => [
  '--port',
  String(port),
  '--bind',
  host,
  '--dir',
  dir,
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  String(nodeTimeoutMs),
];

/** The ports a node needs free: its own and its cluster bus (port + 10000). */
const nodePorts = (port) => [port, port + 10000];

/** "host:port,…" (REDIS_CLUSTER_NODES) → [{ host, port }]. */
function parseNodeList(list) {
  return String(list)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hostPort) => {
      const m = /^([^:]+):(\d+)$/.exec(hostPort);
      if (!m) throw new Error(`${hostPort} is not host:port (in ${list})`);
      return { host: m[1], port: Number(m[2]) };
    });
}

const parseInfo = (text) =>
  Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l && !l.startsWith('#') && l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );

/** CLUSTER NODES → [{ id, host, port, role, masterId, slots: [[from, to]], failed, myself, connected }]. */
function parseClusterNodes(text) {
  return text
    .split(/\r?\n/)
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flagText, master, , , , link, ...slotFields] = line.split(' ');
      const flags = flagText.split(',');
      const [hostPort] = addr.split('@');
      const colon = hostPort.lastIndexOf(':');
      const slots = slotFields
        .filter((f) => !f.startsWith('['))
        .map((f) => f.split('-').map(Number))
        .map(([a, b]) => [a, b ?? a]);
      return {
        id,
        host: hostPort.slice(0, colon),
        port: Number(hostPort.slice(colon + 1)),
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: master === '-' ? null : master,
        slots,
        failed: flags.includes('fail') || flags.includes('fail?') || flags.includes('noaddr') || flags.includes('handshake'),
        myself: flags.includes('myself'),
        connected: link === 'connected',
      };
    });
}

function isPortOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A short-lived client that never retries: probes must answer fast or fail. */
function nodeClient(host, port) {
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: 1500,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

/**
 * One node as it sees itself and the cluster: `{ ok, detail, port, info, nodes, myself, replication }`
 * (`ok`: it answers as a cluster-enabled Redis with AOF on). Never rejects.
 */
async function nodeView(host, port) {
  if (!(await isPortOpen(host, port))) return { ok: false, listening: false, port, detail: `nothing listening on ${host}:${port}` };
  const client = nodeClient(host, port);
  try {
    await client.connect();
    const [[, appendonly], cluster, nodesText, replication] = await Promise.all([
      client.config('GET', 'appendonly'),
      client.info('cluster'),
      client.call('CLUSTER', 'NODES').catch(() => ''),
      client.info('replication'),
    ]);
    if (parseInfo(cluster).cluster_enabled !== '1')
      return { ok: false, listening: true, port, detail: `${host}:${port} is a Redis without cluster-enabled` };
    if (appendonly !== 'yes') return { ok: false, listening: true, port, detail: `${host}:${port} answers but appendonly=${appendonly}` };
    const info = parseInfo(await client.call('CLUSTER', 'INFO'));
    const nodes = parseClusterNodes(String(nodesText));
    return {
      ok: true,
      port,
      detail: `cluster_state:${info.cluster_state}`,
      info,
      nodes,
      myself: nodes.find((n) => n.myself),
      replication: parseInfo(replication),
    };
  } catch (e) {
    return { ok: false, listening: true, port, detail: `${host}:${port} answers, but not as a Redis cluster node: ${e.message}` };
  } finally {
    client.disconnect();
  }
}

/** "master 0-5460" or "replica of 7001" (for status lines). */
function describeRole(view) {
  const me = view?.myself;
  if (!me) return '-';
  if (me.role === 'master')
    return me.slots.length ? `master ${me.slots.map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(',')}` : 'master (no slots)';
  const master = view.nodes.find((n) => n.id === me.masterId);
  const link = view.replication?.master_link_status === 'up' ? '' : ` (link ${view.replication?.master_link_status ?? '?'})`;
  return `replica of ${master ? master.port : me.masterId}${link}`;
}

/**
 * Is the cluster on `ports` ready? Every node answers with cluster_state:ok and all 16384 slots
 * served, all of them agree on `masters` live masters owning the slots, and `replicas` live
 * replicas follow them with their replication link up. `{ ok, detail, views }`; never rejects.
 */
async function clusterReady({ host, ports, masters, replicas }) {
  const views = await Promise.all(ports.map((p) => nodeView(host, p)));
  const problem = (detail) => ({ ok: false, detail, views });
  const down = views.filter((v) => !v.ok);
  if (down.length === views.length && views.every((v) => v.listening === false))
    return problem(`no node answers on ${host}:${ports.join(',')}`);
  if (down.length) return problem(down.map((v) => v.detail).join('; '));
  for (const v of views) {
    if (v.info.cluster_state !== 'ok') return problem(`${v.port} reports cluster_state:${v.info.cluster_state}`);
    if (Number(v.info.cluster_slots_ok) !== SLOTS)
      return problem(`${v.port} sees ${v.info.cluster_slots_ok}/${SLOTS} slots served (${v.info.cluster_slots_assigned} assigned)`);
  }
  const owners = (v) =>
    v.nodes
      .filter((n) => n.role === 'master' && !n.failed && n.slots.length)
      .map((n) => n.id)
      .sort()
      .join(',');
  const agreed = owners(views[0]);
  const differs = views.find((v) => owners(v) !== agreed);
  if (differs) return problem(`${differs.port} and ${views[0].port} do not agree yet on which nodes own the slots`);
  const live = views[0].nodes.filter((n) => !n.failed);
  const masterIds = new Set(live.filter((n) => n.role === 'master' && n.slots.length).map((n) => n.id));
  const following = live.filter((n) => n.role === 'replica' && masterIds.has(n.masterId));
  if (masterIds.size !== masters || following.length !== replicas)
    return problem(
      `${masterIds.size} masters with slots and ${following.length} replicas following them (want ${masters} and ${replicas})`,
    );
  const unsynced = views.filter((v) => v.myself?.role === 'replica' && v.replication.master_link_status !== 'up');
  if (unsynced.length) return problem(`replica ${unsynced.map((v) => v.port).join(', ')} not in sync with its master yet`);
  return { ok: true, detail: `cluster_state:ok, ${SLOTS} slots, ${masters} masters, ${replicas} replicas`, views };
}

/** Runs `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, its output appended to `log`. */
function createCluster({ redisCli, host, ports, replicasPerMaster = 1, log }) {
  const args = [
    '--cluster',
    'create',
    ...ports.map((p) => `${host}:${p}`),
    '--cluster-replicas',
    String(replicasPerMaster),
    '--cluster-yes',
  ];
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(log, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${redisCli} ${args.join(' ')}\n`);
    let child;
    try {
      child = spawn(redisCli, args, { stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited with ${code ?? signal}; its output is in ${log}`)),
    );
  });
}

/**
 * Makes the nodes on `ports` (all running) one ready cluster: creates it when every node is new
 * (no slots, knows only itself), waits when it exists (a restarted node rejoins from its
 * nodes.conf), refuses a half-made one. Resolves `{ created, ms, detail }`.
 */
async function ensureRedisCluster({ host, ports, replicasPerMaster = 1, redisCli, log, deadlineMs = 60_000, note = () => {} }) {
  const t0 = Date.now();
  const views = await Promise.all(ports.map((p) => nodeView(host, p)));
  const down = views.filter((v) => !v.ok);
  if (down.length) throw new Error(`cannot form the cluster: ${down.map((v) => v.detail).join('; ')}`);
  const isNew = (v) => Number(v.info.cluster_known_nodes) === 1 && Number(v.info.cluster_slots_assigned) === 0;
  const fresh = views.filter(isNew);
  let created = false;
  if (fresh.length === views.length) {
    note(
      `creating the cluster: redis-cli --cluster create ${ports.map((p) => `${host}:${p}`).join(' ')} --cluster-replicas ${replicasPerMaster}`,
    );
    await createCluster({ redisCli, host, ports, replicasPerMaster, log });
    created = true;
  } else if (fresh.length) {
    const err = new Error(
      `node ${fresh.map((v) => v.port).join(', ')} knows no cluster while ${views
        .filter((v) => !isNew(v))
        .map((v) => v.port)
        .join(', ')} belong to one (its nodes.conf was lost)`,
    );
    err.next = `add it back with \`redis-cli --cluster add-node ${host}:${fresh[0].port} ${host}:${views.find((v) => !isNew(v)).port} --cluster-slave\`, or start over: stop the nodes and delete their directories`;
    throw err;
  }
  const masters = Math.floor(ports.length / (replicasPerMaster + 1));
  let last = '';
  await pollUntil({
    what: 'the Redis cluster (cluster_state:ok, every slot served, replicas in sync)',
    deadlineMs: Math.max(5000, deadlineMs - (Date.now() - t0)),
    note,
    everyMs: 250,
    check: async () => {
      const r = await clusterReady({ host, ports, masters, replicas: ports.length - masters });
      last = r.detail;
      return r;
    },
  });
  return { created, ms: Date.now() - t0, detail: last };
}

/** The slot of a key, as the cluster computes it (CLUSTER KEYSLOT on any node). */
async function keySlot(host, port, key) {
  const client = nodeClient(host, port);
  try {
    await client.connect();
    return Number(await client.call('CLUSTER', 'KEYSLOT', key));
  } finally {
    client.disconnect();
  }
}

/** The live master that serves `slot`, in one node's view (nodeView). */
function masterOfSlot(view, slot) {
  return view.nodes.find((n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b)) ?? null;
}

module.exports = {
  clusterReady,
  describeRole,
  ensureRedisCluster,
  keySlot,
  masterOfSlot,
  nodePorts,
  nodeView,
  parseClusterNodes,
  parseNodeList,
  redisNodeArgs,
  SLOTS,
};
