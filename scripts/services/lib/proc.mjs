// Processes, pid files and ports: what `up` started, what listens where, and starting/stopping.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { HOST, logFile, pidFile, ROOT, say, ServiceError, secs, sleep } from './common.mjs';

export function isPortOpen(port, host = HOST, timeoutMs = 1000) {
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

export function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function pidAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    // a zombie (exited, not reaped yet) still answers kill(0)
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** How long the process has been running (from /proc/<pid>/stat starttime; USER_HZ is 100 on Linux). */
export function processAgeMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]); // field 22 overall
    const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const age = (uptime - startTicks / 100) * 1000;
    return Number.isFinite(age) && age > 0 ? age : 0;
  } catch {
    return 0;
  }
}

export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The pid recorded by `up` for this service, when that process is still alive and is the service. */
export function ourPid(svc) {
  const pid = readPid(pidFile(svc.name));
  if (!pid || !pidAlive(pid)) return null;
  const cmd = cmdline(pid);
  if (cmd && !cmd.includes(svc.processMatch)) return null; // pid reused by something else
  return pid;
}

/** Pid of whatever listens on the port, via `ss` (best effort, for messages only). */
export function listenerPid(port) {
  const r = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = r.status === 0 ? /pid=(\d+)/.exec(r.stdout) : null;
  return m ? Number(m[1]) : null;
}

export function describeListener(port) {
  const pid = listenerPid(port);
  if (!pid) return `something (see \`ss -ltnp 'sport = :${port}'\`)`;
  return `pid ${pid} (${cmdline(pid).slice(0, 100) || 'unknown command'})`;
}

export function processesByExe(exe) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) === exe && pidAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // the process exited while listing, or is not ours to inspect: it is not one of ours
    }
  }
  return pids;
}

/** Run a command to completion, appending its output to a log file. Resolves with the exit code. */
export function runLogged(cmd, args, log, opts = {}) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(log, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: ROOT, ...opts });
    } finally {
      fs.closeSync(fd);
    }
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Start a long-running process that outlives this script: its own session (detached), stdio to
 * the log file, not referenced by our event loop, pid written to .services/<name>.pid.
 */
export function spawnDetached(name, cmd, args, opts = {}) {
  const log = logFile(name);
  const fd = fs.openSync(log, 'a');
  fs.writeSync(fd, `\n=== ${new Date().toISOString()} services up: ${cmd} ${args.join(' ')}\n`);
  let child;
  try {
    child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT, ...opts });
  } finally {
    fs.closeSync(fd);
  }
  const state = { pid: child.pid, exited: false, code: null, error: null };
  child.once('error', (e) => Object.assign(state, { exited: true, error: e }));
  child.once('exit', (code, signal) => Object.assign(state, { exited: true, code: code ?? signal }));
  child.unref();
  if (child.pid) fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  return state;
}

/** For waitHealthy: reports when a child we spawned has gone. */
export const childDied = (state, what) => () => {
  if (!state.exited && pidAlive(state.pid)) return null;
  if (state.error) return `${what} could not be started (${state.error.message})`;
  return `${what} (pid ${state.pid}) exited${state.code !== null ? ` with ${state.code}` : ''}`;
};

/** For waitHealthy: reports when the process of a pid file (a daemon that forked) has gone. */
export const pidFileDied = (file, what) => () => {
  const pid = readPid(file);
  if (pid && !pidAlive(pid)) return `${what} (pid ${pid}) exited`;
  return null;
};

/** SIGTERM, wait up to the deadline, then SIGKILL. Resolves 'stopped' or 'killed'. */
export async function stopPid(svc, pid, deadlineMs) {
  const gone = async (ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!pidAlive(pid)) return true;
      await sleep(100);
    }
    return !pidAlive(pid);
  };
  say(svc.name, `stopping pid ${pid} (SIGTERM, up to ${secs(deadlineMs)})…`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone (ESRCH) or not ours to signal (EPERM): gone() below tells which, and
    // a process that stays is reported by the error at the end
  }
  if (await gone(deadlineMs)) return 'stopped';
  say(svc.name, `pid ${pid} still running after ${secs(deadlineMs)}; sending SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it exited after the deadline check (ESRCH): gone() below confirms it, or throws
  }
  if (await gone(5000)) return 'killed';
  throw new ServiceError(`pid ${pid} survived SIGKILL`, `inspect it with \`ps -o pid,stat,cmd -p ${pid}\``);
}
