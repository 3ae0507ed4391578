import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import type { Logger } from '../observability/logger';

/** What a role tells its supervisor over the IPC channel once it serves. */
export interface ReadyMessage {
  type: 'ready';
  role: string;
  port: number;
}

/** True when this process was forked with an IPC channel by a parent (the supervisor), not a cluster worker. */
export const hasSupervisor = (): boolean => process.channel !== undefined && !cluster.isWorker;

/**
 * A role started by the supervisor (src/runtime/supervisor.ts) dies with it. The kernel closes
 * the IPC channel whenever the supervisor ends, even by SIGKILL, so the channel's `disconnect`
 * is the parent-death signal: the role stops as on SIGTERM (its own handlers finish what is in
 * flight) and is forced out after `deadlineMs` if that stop hangs. Nothing is left orphaned.
 * Cluster workers are left to node:cluster, which ends them when their primary goes.
 */
export function exitWithSupervisor(log: Logger, deadlineMs: number): void {
  if (!hasSupervisor()) return;
  // The channel alone must not keep a stopped process alive.
  process.channel?.unref();
  // The supervisor read our stdout and stderr: once it is gone, writes fail with EPIPE; losing them is fine.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let gone = false;
  const stop = (how: string) => {
    if (gone) return;
    gone = true;
    // The deadline and the stop first: the log line below writes to the dead supervisor's pipe,
    // and a logger that throws on EPIPE must not leave this process running as an orphan.
    setTimeout(() => process.exit(1), deadlineMs).unref();
    // And a deadline that needs no JavaScript here: an api role was seen with its main thread
    // blocked (futex) after the supervisor's SIGKILL, deaf to SIGTERM and to its own timer.
    // (Only a process that still runs this entry point: a pid reused meanwhile is left alone.)
    const pid = process.pid;
    spawn('sh', ['-c', `sleep ${Math.ceil(deadlineMs / 1000) + 2}; grep -q main.js /proc/${pid}/cmdline 2>/dev/null && kill -9 ${pid}`], {
      detached: true,
      stdio: 'ignore',
    }).unref();
    process.kill(process.pid, 'SIGTERM');
    try {
      log.warn({ deadlineMs, how }, 'the supervisor is gone: stopping as on SIGTERM');
    } catch {
      // nobody reads it any more
    }
  };
  process.once('disconnect', () => stop('its IPC channel closed'));
  // Belt and braces: an orphan is re-parented (to init or a subreaper). Seen under load: a role
  // that outlived a SIGKILLed supervisor without its channel's 'disconnect' stopping it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(`re-parented from ${parent} to ${process.ppid}`), 1000).unref();
}

/** Tells the supervisor (if any) that this role serves on `port`. */
export function reportReady(role: string, port: number): void {
  if (!hasSupervisor() || !process.connected) return;
  const msg: ReadyMessage = { type: 'ready', role, port };
  process.send?.(msg);
}
