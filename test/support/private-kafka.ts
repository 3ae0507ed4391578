import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT } from './process';
import { waitFor } from './env';

/** The Kafka jars `npm run services:install` resolves (private-cluster.ts runs its brokers from them too). */
export const KAFKA_LIBS = path.join(ROOT, '.services', 'kafka', 'libs');

/**
 * The jars `npm run services:install` resolves (test.sh and .ci/run call it). When they are
 * missing anyway (a checkout that never ran it), resolve them here with the same pom.
 */
export function ensureKafkaJars(): void {
  if (existsSync(KAFKA_LIBS)) return;
  const r = spawnSync(
    'mvn',
    ['-B', '-q', '-f', path.join(ROOT, 'scripts', 'kafka', 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${KAFKA_LIBS}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(
      `Kafka jars missing and Maven could not resolve them (run \`npm run services:install -- --only kafka\`):\n${r.stdout}${r.stderr}`,
    );
}

/**
 * A Kafka broker of a test's own (KRaft, single node, temp folder), from the jars that
 * `npm run services:up` resolved, so a test can stop and restart it without disturbing
 * the shared broker other tests use.
 */
export class PrivateKafka {
  private child: ChildProcess | undefined;
  private log = '';
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly controllerPort: number,
  ) {}

  static async create(): Promise<PrivateKafka> {
    ensureKafkaJars();
    const k = new PrivateKafka(mkdtempSync(path.join(os.tmpdir(), 'tp-kafka-')), await freePort(), await freePort());
    writeFileSync(k.props, k.properties());
    await k.java(
      [
        'kafka.tools.StorageTool',
        'format',
        '--cluster-id',
        randomBytes(16).toString('base64url').replace(/^-/, 'A'),
        '--config',
        k.props,
        '--ignore-formatted',
      ],
      true,
    );
    return k;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  private get props(): string {
    return path.join(this.dir, 'server.properties');
  }

  private properties(): string {
    return [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      'controller.listener.names=CONTROLLER',
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${path.join(this.dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
    ].join('\n');
  }

  private java(args: string[], wait: boolean): Promise<void> {
    const log4j = path.join(ROOT, 'scripts', 'kafka', 'log4j2.properties');
    const child = spawn('java', ['-Xms128m', '-Xmx384m', '-cp', `${KAFKA_LIBS}/*`, `-Dlog4j2.configurationFile=${log4j}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (this.log = (this.log + d).slice(-20000)));
    child.stderr.on('data', (d) => (this.log = (this.log + d).slice(-20000)));
    if (!wait) {
      this.child = child;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kafka tool failed:\n${this.log}`)))),
    );
  }

  /** Starts the broker and waits until it accepts connections. */
  async start(): Promise<void> {
    await this.java(['kafka.Kafka', this.props], false);
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(this.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(true)));
          s.once('error', () => resolve(false));
        }),
      `private Kafka on ${this.port}`,
      60000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.log.slice(-3000)}`);
    });
  }

  /** Stops the broker hard (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    // A child killed by a signal keeps exitCode null: check signalCode too, or a second kill waits for ever.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Signals the running broker: SIGSTOP freezes it (a stalled VM, a long pause), SIGCONT resumes it. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      throw new Error(`the private Kafka on ${this.port} is not running: start() it before sending ${sig}`);
    this.child.kill(sig);
  }

  /** Freezes the broker (SIGSTOP): connections stay open, nothing is answered (a long GC pause, a stalled VM). */
  freeze(): void {
    this.signal('SIGSTOP');
  }

  /** Resumes a frozen broker (SIGCONT): requests it held are answered. */
  thaw(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  output(): string {
    return this.log + (existsSync(this.props) ? `\n${readFileSync(this.props, 'utf8')}` : '');
  }
}
