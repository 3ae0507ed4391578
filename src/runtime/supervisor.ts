import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { ReadyMessage } from './parent-watch';
import { DEFAULT_RESTART_POLICY, nextRestart, type RestartPolicy, type RestartState } from './restart-policy';
import type { RolePlan } from './role-ports';

/**
 * `npm start`: every role in a process of its own (`node main.js <role>`), so the api's event
 * loop is never shared with the consumers. One terminal: each line a child prints is passed on
 * whole, prefixed with its role. A role that dies is reported and started again with a backoff
 * (restart-policy.ts). SIGINT or SIGTERM stops every child (SIGTERM, a deadline, then SIGKILL).
 * The children stay in this process group and are forked with an IPC channel: when this
 * process ends, even by SIGKILL, the channel closes and each child stops by itself
 * (parent-watch.ts), so none is left orphaned.
 */
export interface SupervisorOptions {
  /** The compiled entry point of one role (dist/src/main.js). */
  main: string;
  roles: RolePlan[];
  /** The environment every child starts from (the plan's variables are laid over it). */
  env: NodeJS.ProcessEnv;
  /** How long the children get to stop after SIGTERM before they are killed. */
  stopDeadlineMs: number;
  /** How long the start waits for the controller to seed before it starts the others anyway. */
  seedWaitMs?: number;
  policy?: RestartPolicy;
  out?: Writable;
  err?: Writable;
}

interface Slot {
  plan: RolePlan;
  child?: ChildProcess;
  startedAt: number;
  /** The port the role reported once it served (the plan's, or the free one it got for 0). */
  servedPort?: number;
  restart: RestartState;
  timer?: NodeJS.Timeout;
  /** The role's last lines, repeated when it is in a crash loop. */
  tail: string[];
  /** Who waits for the role to serve (across restarts, until the supervisor stops). */
  waiters: ((port: number | undefined) => void)[];
}

const TAIL_LINES = 8;

export class Supervisor {
  private readonly slots: Slot[];
  private readonly width: number;
  private readonly out: Writable;
  private readonly err: Writable;
  private readonly policy: RestartPolicy;
  private stopping?: Promise<number>;

  constructor(private readonly opts: SupervisorOptions) {
    this.slots = opts.roles.map((plan) => ({ plan, startedAt: 0, restart: { youngDeaths: 0 }, tail: [], waiters: [] }));
    this.width = Math.max('supervisor'.length, ...opts.roles.map((r) => r.role.length));
    this.out = opts.out ?? process.stdout;
    this.err = opts.err ?? process.stderr;
    this.policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  }

  /** Starts the controller, waits until it seeded (or seedWaitMs passed), then the other roles at once. */
  async start(): Promise<void> {
    const [first, ...rest] = this.slots;
    if (!first) return;
    this.say(`starting ${this.slots.map((s) => `${s.plan.role} on :${s.plan.port || 'a free port'}`).join(', ')}`);
    if (first.plan.role === 'controller' && rest.length > 0) {
      this.spawn(first);
      const seeded = await this.readyz(first, this.opts.seedWaitMs ?? 60_000);
      if (this.stopping) return;
      if (!seeded) this.say(`the controller is not ready yet (see its lines); starting the other roles anyway`);
      for (const s of rest) this.spawn(s);
    } else {
      for (const s of this.slots) this.spawn(s);
    }
    const served = await Promise.all(this.slots.map((s) => this.served(s)));
    if (this.stopping) return;
    const lines = this.slots.map((s, i) => {
      const port = served[i];
      const where =
        s.plan.role === 'api' ? `http://127.0.0.1:${port} (/readyz, the API and the seat map)` : `health and metrics on :${port}`;
      return `${s.plan.role} pid ${s.child?.pid}: ${where}`;
    });
    this.say(`every role runs in its own process: ${lines.join('; ')}. Ctrl-C stops them all.`);
  }

  /** Stops every child: SIGTERM, then SIGKILL after the deadline. Resolves to the exit code for this process. */
  stop(reason: string): Promise<number> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  /** A second Ctrl-C: no more waiting. */
  killAll(): void {
    for (const s of this.slots) if (this.alive(s)) s.child?.kill('SIGKILL');
  }

  private async stopAll(reason: string): Promise<number> {
    for (const s of this.slots) {
      clearTimeout(s.timer);
      for (const w of s.waiters.splice(0)) w(undefined);
    }
    const running = this.slots.filter((s) => this.alive(s));
    this.say(
      `${reason}: stopping ${running.map((s) => s.plan.role).join(', ') || 'nothing'} (SIGTERM, SIGKILL after ${this.opts.stopDeadlineMs} ms)`,
    );
    // The api first would be kinder to buyers, but every role finishes its own work in flight: stop them together.
    for (const s of running) s.child?.kill('SIGTERM');
    const exits = running.map((s) => this.exited(s));
    const timer = setTimeout(() => {
      for (const s of running.filter((r) => this.alive(r))) {
        this.warn(`${s.plan.role} did not stop within ${this.opts.stopDeadlineMs} ms: killing it (SIGKILL)`);
        s.child?.kill('SIGKILL');
      }
    }, this.opts.stopDeadlineMs);
    const results = await Promise.all(exits);
    clearTimeout(timer);
    const unclean = results.filter((r) => r.signal === 'SIGKILL' || (r.code !== 0 && r.code !== null));
    this.say(unclean.length === 0 ? 'every role stopped' : `stopped; ${unclean.length} role(s) did not stop cleanly (see above)`);
    return unclean.length === 0 ? 0 : 1;
  }

  private spawn(s: Slot): void {
    const { role, env } = s.plan;
    const childEnv: NodeJS.ProcessEnv = { ...this.opts.env, ...env };
    delete childEnv.ROLE; // the argument names the role
    // 'ipc': the channel whose close tells the child that the supervisor is gone. Not detached: same process group.
    const child = spawn(process.execPath, [this.opts.main, role], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    s.child = child;
    this.renice(s, child);
    s.startedAt = Date.now();
    s.servedPort = undefined;
    this.relay(s, child.stdout, this.out);
    this.relay(s, child.stderr, this.err);
    child.on('message', (m: Partial<ReadyMessage>) => {
      if (m?.type !== 'ready' || typeof m.port !== 'number') return;
      s.servedPort = m.port;
      // Again once it serves: the threads it started before the first call kept the old niceness.
      this.renice(s, child);
      for (const w of s.waiters.splice(0)) w(m.port);
    });
    child.on('error', (e) => this.warn(`${role} could not be started: ${e.message}`));
    // 'close', not 'exit': the role's last lines are printed before its death is reported.
    child.once('close', (code, signal) => this.onDeath(s, child, code, signal));
  }

  /**
   * Gives every thread of the child the plan's niceness (setpriority on Linux changes one thread;
   * threads started later inherit their creator's). Never below the supervisor's own: lowering a
   * niceness needs privileges.
   */
  private renice(s: Slot, child: ChildProcess): void {
    const { nice, role } = s.plan;
    if (nice <= os.getPriority() || child.pid === undefined || child.exitCode !== null) return;
    const pid = child.pid;
    let threads: number[] = [pid];
    try {
      threads = readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      /* no /proc (not Linux): setpriority there applies to the whole process */
    }
    for (const tid of threads) {
      try {
        os.setPriority(tid, nice);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') continue; // the thread (or the child) ended meanwhile
        this.warn(
          `${role} may run at the api's priority: setting niceness ${nice} failed (${(e as Error).message}); SUPERVISOR_CONSUMER_NICE=0 skips it`,
        );
        return;
      }
    }
  }

  private relay(s: Slot, from: NodeJS.ReadableStream | null, to: Writable): void {
    if (!from) return;
    const label = `${s.plan.role.padEnd(this.width)} | `;
    createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => {
      s.tail.push(line);
      if (s.tail.length > TAIL_LINES) s.tail.shift();
      to.write(label + line + '\n');
    });
  }

  private onDeath(s: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (s.child !== child || this.stopping) return;
    const ranMs = Date.now() - s.startedAt;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const decision = nextRestart(s.restart, ranMs, this.policy);
    s.restart = decision.state;
    const role = s.plan.role;
    this.warn(
      `${role} (pid ${child.pid}) died with ${how} after ${(ranMs / 1000).toFixed(1)} s; restarting it in ${decision.delayMs / 1000} s`,
    );
    if (decision.crashLoop) {
      this.warn(
        `${role} is in a crash loop: it died ${decision.state.youngDeaths} times in a row, each within ${this.policy.healthyAfterMs / 1000} s of its start (last: ${how}). Its last lines:`,
      );
      for (const line of s.tail) this.warn(`  ${line}`);
      this.warn(
        `What to do: read ${role}'s lines above; check the services (npm run services:status) and the configuration (docs/contracts.md); ` +
          `a port in use needs another PORT/METRICS_PORT. It is restarted every ${this.policy.maxDelayMs / 1000} s meanwhile; Ctrl-C stops everything.`,
      );
    }
    s.timer = setTimeout(() => {
      if (!this.stopping) this.spawn(s);
    }, decision.delayMs);
  }

  private alive(s: Slot): boolean {
    return !!s.child && s.child.exitCode === null && s.child.signalCode === null;
  }

  private exited(s: Slot): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = s.child;
    if (!child || !this.alive(s)) return Promise.resolve({ code: child?.exitCode ?? 0, signal: child?.signalCode ?? null });
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the port once the role reported that it serves (undefined when the supervisor stops first). */
  private served(s: Slot): Promise<number | undefined> {
    if (s.servedPort !== undefined) return Promise.resolve(s.servedPort);
    if (this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => s.waiters.push(resolve));
  }

  /** Waits until the role serves and its /readyz answers 200, up to `ms`; false if not by then. */
  private async readyz(s: Slot, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    const port = await Promise.race([this.served(s), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
    while (port !== undefined && Date.now() < deadline && !this.stopping) {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      if (res?.status === 200) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  private say(msg: string): void {
    this.out.write(`${'supervisor'.padEnd(this.width)} | ${msg}\n`);
  }

  private warn(msg: string): void {
    this.err.write(`${'supervisor'.padEnd(this.width)} | ${msg}\n`);
  }
}
