// Apache Kafka 4.x, one KRaft process (broker + controller): 127.0.0.1:9092 (KAFKA_PORT),
// controller 9093 (KAFKA_CONTROLLER_PORT). Jars resolved by Maven from scripts/kafka/pom.xml
// into .services/kafka/libs/ by `services:install`; data in .services/kafka/data/.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  CMD,
  HOST,
  intEnv,
  LOG_DIR,
  logFile,
  rel,
  require,
  ROOT,
  say,
  ServiceError,
  SERVICES_DIR,
  tail,
  which,
  withTimeout,
} from './lib/common.mjs';
import { aptCommand, aptInstall } from './lib/install.mjs';
import { clusterId, formatArgs, isFormatted, kafkaProperties, serverArgs } from './lib/kafka-config.cjs';
import { ensureOwned, stopOwned } from './lib/lifecycle.mjs';
import { childDied, isPortOpen, ourPid, runLogged, spawnDetached } from './lib/proc.mjs';

const PORT = intEnv('KAFKA_PORT', 9092);
const CONTROLLER_PORT = intEnv('KAFKA_CONTROLLER_PORT', 9093);
const HEAP = (process.env.KAFKA_HEAP_OPTS || '-Xms256m -Xmx768m').split(/\s+/).filter(Boolean);
const PROBE_TOPIC = '__services_probe';
const POM = path.join(ROOT, 'scripts', 'kafka', 'pom.xml');
const DIR = path.join(SERVICES_DIR, 'kafka');
/** The jars `services:install` resolves; the cluster topology's nodes run from them too. */
export const LIBS = path.join(DIR, 'libs');
const LIBS_HASH = path.join(LIBS, '.pom.sha256');
const DATA = path.join(DIR, 'data');
const PROPS = path.join(DIR, 'server.properties');
const CLUSTER_ID = path.join(DIR, 'cluster.id');
const JAVA_PKG = 'openjdk-17-jre-headless';

async function probe() {
  if (!(await isPortOpen(PORT))) return { ok: false, listening: false, detail: `nothing listening on ${HOST}:${PORT}` };
  // The Kafka client is the stream module's business (src/stream/); its probe is plain CommonJS.
  const { probeBroker } = require(path.join(ROOT, 'src', 'stream', 'broker-probe.cjs'));
  const result = await probeBroker({ host: HOST, port: PORT, probeTopic: PROBE_TOPIC }, withTimeout);
  return result.ok ? result : { ...result, listening: true };
}

const pomHash = () => crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
function resolvedHash() {
  try {
    return fs.readFileSync(LIBS_HASH, 'utf8').trim();
  } catch {
    return null;
  }
}

function javaMajor() {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return 0;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

/** Maven copies the jars of scripts/kafka/pom.xml into .services/kafka/libs (atomically, via a temp dir). */
async function resolveJars() {
  if (!which('mvn'))
    throw new ServiceError(
      'Maven (`mvn`) is not installed; it resolves the Kafka jars',
      `run \`${CMD.install('kafka')}\` (${aptCommand('maven')})`,
    );
  const mvnLog = path.join(LOG_DIR, 'kafka-maven.log');
  say(
    'kafka',
    `${resolvedHash() ? 'scripts/kafka/pom.xml changed; re-' : ''}resolving jars with Maven (first run takes ~1 min)… (output in ${rel(mvnLog)})`,
  );
  const tmp = `${LIBS}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const code = await runLogged(
    'mvn',
    ['-B', '-q', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`],
    mvnLog,
  );
  const jars = fs.existsSync(tmp) ? fs.readdirSync(tmp).filter((f) => f.endsWith('.jar')) : [];
  if (code !== 0 || !jars.some((f) => /^kafka_2\.13-.*\.jar$/.test(f))) {
    throw new ServiceError(
      `Maven could not resolve the Kafka jars (exit ${code}); last lines of ${rel(mvnLog)}:\n${tail(mvnLog, 20)}`,
      `check that Maven Central (https://repo.maven.apache.org) is reachable and the version in scripts/kafka/pom.xml exists, then rerun \`${CMD.install('kafka')}\``,
    );
  }
  fs.writeFileSync(path.join(tmp, '.pom.sha256'), `${pomHash()}\n`);
  fs.rmSync(LIBS, { recursive: true, force: true });
  fs.renameSync(tmp, LIBS);
  say('kafka', `resolved ${jars.length} jars into ${rel(LIBS)}`);
}

const NODE = { id: 1, host: HOST, port: PORT, controllerPort: CONTROLLER_PORT };
const properties = () =>
  kafkaProperties({
    header: [
      'Written by scripts/services/kafka.mjs on every start; edit the script, not this file.',
      'Single-node Apache Kafka 4.x in KRaft mode: one process is both broker and controller.',
    ],
    node: NODE,
    voters: [NODE],
    dataDir: DATA,
    replicationFactor: 1,
    minInsyncReplicas: 1,
  });

export const kafka = {
  name: 'kafka',
  port: PORT,
  ports: [PORT, CONTROLLER_PORT],
  portEnv: 'KAFKA_PORT (and KAFKA_CONTROLLER_PORT)',
  processMatch: 'kafka.Kafka',
  log: logFile('kafka'),
  deadlineMs: 120_000,
  stopDeadlineMs: 60_000,
  probe,
  /** Java 17+, Maven and the resolved jars (the tests start private brokers from them too). In install order. */
  missing() {
    const out = [];
    const major = javaMajor();
    if (major === null)
      out.push({
        what: '`java` is not installed; Kafka 4 needs Java 17+',
        how: aptCommand(JAVA_PKG),
        install: () => aptInstall('kafka', JAVA_PKG),
      });
    else if (major && major < 17)
      out.push({
        what: `\`java\` is Java ${major}; Kafka 4 needs Java 17+`,
        how: `${aptCommand(JAVA_PKG)}, then select it with \`update-alternatives --config java\``,
        install: null,
      });
    if (resolvedHash() !== pomHash()) {
      if (!which('mvn'))
        out.push({
          what: 'Maven (`mvn`) is not installed; it resolves the Kafka jars',
          how: aptCommand('maven'),
          install: () => aptInstall('kafka', 'maven'),
        });
      out.push({
        what: `the Kafka jars of scripts/kafka/pom.xml are not ${resolvedHash() ? 'up to date' : 'resolved'} in ${rel(LIBS)}`,
        how: 'Maven resolves them',
        install: resolveJars,
      });
    }
    return out;
  },
  async up() {
    const result = await ensureOwned(this);
    const have = resolvedHash();
    if (!result.started && ourPid(this) && have && have !== pomHash()) {
      say(
        this.name,
        `note: scripts/kafka/pom.xml changed since the running broker was started; run \`${CMD.install('kafka')} && ${CMD.restart('kafka')}\` to switch`,
      );
    }
    return result;
  },
  async start() {
    fs.mkdirSync(DATA, { recursive: true });
    const id = clusterId(CLUSTER_ID, [DATA]);
    fs.writeFileSync(PROPS, properties());
    if (!isFormatted(DATA)) {
      say(this.name, `formatting storage in ${rel(DATA)} (cluster id ${id})`);
      const code = await runLogged('java', formatArgs({ libs: LIBS, logDir: LOG_DIR, clusterId: id, props: PROPS }), this.log);
      if (code !== 0) {
        throw new ServiceError(
          `kafka-storage format failed (exit ${code}); last lines of ${rel(this.log)}:\n${tail(this.log)}`,
          `read ${rel(this.log)}; if ${rel(DATA)} holds nothing you need, delete it and ${rel(CLUSTER_ID)} and rerun \`${CMD.up('kafka')}\``,
        );
      }
    }
    say(this.name, `starting Kafka (KRaft broker+controller) on ${HOST}:${PORT}, controller ${HOST}:${CONTROLLER_PORT}`);
    const state = spawnDetached(this.name, 'java', serverArgs({ libs: LIBS, logDir: LOG_DIR, heap: HEAP, props: PROPS }));
    return childDied(state, 'the Kafka JVM');
  },
  stop() {
    return stopOwned(this);
  },
};
