/**
 * The platform's roles as separate processes (`node dist/src/main.js <role>`), each on a port of
 * its own that it keeps across restarts, so the suite can SIGKILL, SIGSTOP and restart them with
 * real signals while the buyers keep the same address.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, spawnRole, waitReady, type RoleProcess } from '../test/support/process';

export type RoleName = 'controller' | 'writer' | 'projector' | 'api';

interface Slot {
  port: number;
  current?: RoleProcess;
  /** Every incarnation's output, for the logs written at the end. */
  outputs: (() => string)[];
}

export class Roles {
  private readonly slots = new Map<RoleName, Slot>();

  constructor(private readonly env: Record<string, string>) {}

  static async create(env: Record<string, string>, roles: RoleName[]): Promise<Roles> {
    const r = new Roles(env);
    for (const role of roles) r.slots.set(role, { port: await freePort(), outputs: [] });
    return r;
  }

  url(role: RoleName): string {
    return `http://127.0.0.1:${this.slot(role).port}`;
  }

  private slot(role: RoleName): Slot {
    const s = this.slots.get(role);
    if (!s) throw new Error(`role ${role} is not part of this run`);
    return s;
  }

  /** Starts the role (again) on its port and waits until /readyz answers 200. */
  async start(role: RoleName, timeoutMs = 60_000): Promise<void> {
    const s = this.slot(role);
    if (s.current && s.current.child.exitCode === null && s.current.child.signalCode === null)
      throw new Error(`${role} is still running; kill it first`);
    const p = await spawnRole(role, this.env, { port: s.port });
    s.current = p;
    s.outputs.push(p.output);
    await waitReady(p, timeoutMs);
  }

  /** SIGKILL, as a crash or an OOM kill would; resolves once the process is gone. */
  async kill(role: RoleName): Promise<void> {
    const p = this.slot(role).current;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  signal(role: RoleName, sig: 'SIGSTOP' | 'SIGCONT'): void {
    const p = this.slot(role).current;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${role} is not running, cannot send ${sig}`);
    p.child.kill(sig);
  }

  /** Waits until the role's /readyz answers 200 (after a SIGCONT, or a dependency came back). */
  async ready(role: RoleName, timeoutMs = 60_000): Promise<void> {
    const p = this.slot(role).current;
    if (!p) throw new Error(`${role} was never started`);
    await waitReady(p, timeoutMs);
  }

  /** Stops every role: SIGCONT (a stopped one cannot exit), SIGTERM, then SIGKILL after a grace. */
  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(
      [...this.slots.values()].map(async (s) => {
        const p = s.current;
        if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGCONT');
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
        await p.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Writes each role's output (every incarnation) to `dir/<role>-<n>.log`; returns the folder. */
  writeLogs(dir: string): string {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [role, s] of this.slots) s.outputs.forEach((out, i) => writeFileSync(path.join(dir, `${role}-${i + 1}.log`), out()));
    return dir;
  }
}
