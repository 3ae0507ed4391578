// The flow every service shares: leave a healthy one alone, serialise concurrent `up`s, refuse
// a busy port, start, wait for health with a deadline and progress lines, stop what we started.
import fs from 'node:fs';
import path from 'node:path';
import { CMD, HOST, pidFile, rel, say, ServiceError, SERVICES_DIR, secs, sleep, tail } from './common.mjs';
import { describeListener, isPortOpen, listenerPid, ourPid, pidAlive, processAgeMs, readPid, stopPid } from './proc.mjs';

/** The `--only` name that reaches a service: its own, or its cluster's for a cluster node. */
const onlyName = (svc) => svc.group ?? svc.name;

/**
 * Serialise concurrent `up` runs per service (tests may call `up --only …` in parallel):
 * .services/<name>.lock holds the pid of the `up` working on that service.
 */
export async function withLock(name, fn) {
  const file = path.join(SERVICES_DIR, `${name}.lock`);
  const deadline = Date.now() + 300_000;
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const holder = readPid(file);
    let fresh = false;
    try {
      fresh = Date.now() - fs.statSync(file).mtimeMs < 2000;
    } catch {
      // the holder removed the lock meanwhile: not fresh, and the next attempt may take it
    }
    if ((holder && !pidAlive(holder)) || (!holder && !fresh)) {
      fs.rmSync(file, { force: true }); // left behind by a crashed run
      continue;
    }
    if (Date.now() > deadline) {
      throw new ServiceError(
        `another \`services up\` (pid ${holder}) has held ${rel(file)} for 5 minutes`,
        `if no other \`up\` is running, delete ${rel(file)} and retry`,
      );
    }
    if (!announced) say(name, `another \`services up\` (pid ${holder}) is starting it; waiting…`);
    announced = true;
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Poll svc.probe() until healthy. Fails when the deadline passes or `died()` reports that the
 * process we are waiting for is gone. Prints a progress line every 10 s.
 */
export async function waitHealthy(svc, { deadlineMs, died = () => null, intervalMs = 300 }) {
  const t0 = Date.now();
  let nextNote = t0 + 10_000;
  for (;;) {
    const last = await svc.probe();
    if (last.ok) return Date.now() - t0;
    const death = died();
    if (death) {
      throw new ServiceError(
        `${death} before becoming healthy (last probe: ${last.detail}); last lines of ${rel(svc.log)}:\n${tail(svc.log)}`,
        `read ${rel(svc.log)}, fix the cause, then rerun \`${CMD.up(onlyName(svc))}\``,
      );
    }
    if (Date.now() - t0 > deadlineMs) {
      throw new ServiceError(
        `not healthy after ${secs(deadlineMs)} (last probe: ${last.detail}); last lines of ${rel(svc.log)}:\n${tail(svc.log)}`,
        `read ${rel(svc.log)}; to retry from scratch run \`${CMD.restart(onlyName(svc))}\``,
      );
    }
    if (Date.now() >= nextNote) {
      say(svc.name, `still waiting (${secs(Date.now() - t0)}): ${last.detail}`);
      nextNote += 10_000;
    }
    await sleep(intervalMs);
  }
}

export function reportHealthy(svc, ms, started = false) {
  const pid = ourPid(svc);
  if (started) say(svc.name, `healthy on ${HOST}:${svc.port} after ${secs(ms)} (pid ${pid ?? '?'}, log ${rel(svc.log)})`);
  else if (pid) say(svc.name, `already healthy on ${HOST}:${svc.port} (started by us, pid ${pid}); left alone`);
  else say(svc.name, `already healthy on ${HOST}:${svc.port} (external); left alone`);
  return { started };
}

/** `up` never installs: when the service must be started and something it needs is missing, say which command installs it. */
export function requireInstalled(svc) {
  const missing = svc.missing();
  if (!missing.length) return;
  throw new ServiceError(
    `cannot start it: ${missing.map((m) => m.what).join('; ')}`,
    `run \`${CMD.install(onlyName(svc))}\` (${missing.map((m) => m.how).join('; ')}), then \`${CMD.up(onlyName(svc))}\``,
  );
}

/** Common `up` of the services we run ourselves (redis, kafka, dynalite). */
export async function ensureOwned(svc) {
  const first = await svc.probe();
  if (first.ok) return reportHealthy(svc, 0);
  return withLock(svc.name, async () => {
    const again = await svc.probe(); // another `up` may have finished it meanwhile
    if (again.ok) return reportHealthy(svc, 0);

    const pid = ourPid(svc);
    if (pid) {
      const listener = listenerPid(svc.port);
      if (listener && listener !== pid) {
        throw new ServiceError(
          `${HOST}:${svc.port} is taken by ${describeListener(svc.port)}, which is not a healthy ${svc.name} (${again.detail}); our ${svc.name} (pid ${pid}) runs elsewhere`,
          `stop that process, or pick a free port with ${svc.portEnv}=${svc.portHint ?? '<port>'} and run \`${CMD.restart(onlyName(svc))}\``,
        );
      }
      // still starting, or hung? Allow it the start deadline counted from its own start.
      const remaining = Math.max(5000, svc.deadlineMs - processAgeMs(pid));
      say(
        svc.name,
        `pid ${pid} (started by an earlier \`up\`) is running but not healthy on ${HOST}:${svc.port} yet; waiting up to ${secs(remaining)}…`,
      );
      try {
        const ms = await waitHealthy(svc, { deadlineMs: remaining, died: () => (pidAlive(pid) ? null : `pid ${pid} exited`) });
        return reportHealthy(svc, ms);
      } catch (e) {
        e.next = `read ${rel(svc.log)}, then restart it: \`${CMD.restart(onlyName(svc))}\` (also needed after changing ${svc.portEnv})`;
        throw e;
      }
    }
    fs.rmSync(pidFile(svc.name), { force: true }); // stale

    for (const port of svc.ports) {
      if (await isPortOpen(port)) {
        const why = port === svc.port ? again.detail : `port ${port} is needed too`;
        throw new ServiceError(
          `${HOST}:${port} is taken by ${describeListener(port)}, which is not a healthy ${svc.name} (${why})`,
          `stop that process, or move ours with ${svc.portEnv}=${svc.portHint ?? '<free port>'}, then rerun \`${CMD.up(onlyName(svc))}\``,
        );
      }
    }
    requireInstalled(svc);
    const t0 = Date.now();
    const died = await svc.start();
    say(svc.name, `waiting for health on ${HOST}:${svc.port} (deadline ${secs(svc.deadlineMs)})…`);
    await waitHealthy(svc, { deadlineMs: svc.deadlineMs, died });
    return reportHealthy(svc, Date.now() - t0, true);
  });
}

/** `down` of one service: stops only the process `up` recorded in its pid file, keeps the data. */
export async function stopOwned(svc) {
  const file = pidFile(svc.name);
  const recorded = readPid(file);
  const pid = ourPid(svc);
  if (!pid) {
    fs.rmSync(file, { force: true });
    if (recorded) say(svc.name, `pid ${recorded} from ${rel(file)} is no longer running; removed the pid file`);
    else say(svc.name, `not started by \`up\`; nothing to stop${svc.external ? ` (${svc.external} stays up)` : ''}`);
    return;
  }
  const how = await stopPid(svc, pid, svc.stopDeadlineMs);
  fs.rmSync(file, { force: true });
  say(svc.name, `${how}; data kept`);
}
