// What `services:install` does for the service modules: Debian packages through apt-get (one at
// a time, dpkg holds a lock; `apt-get update` once per run). `up` never calls this.
import path from 'node:path';
import { LOG_DIR, rel, say, ServiceError } from './common.mjs';
import { runLogged } from './proc.mjs';

let aptQueue = Promise.resolve();
let updated = false;

export const aptCommand = (pkg) => `apt-get update && apt-get install -y ${pkg}`;

export function aptInstall(name, pkg) {
  const command = aptCommand(pkg);
  const run = async () => {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new ServiceError(
        `${pkg} is not installed and this is not root`,
        `install it: sudo ${command.replace('&& apt-get', '&& sudo apt-get')}`,
      );
    }
    const log = path.join(LOG_DIR, 'apt.log');
    say(name, `installing ${pkg}: \`${command}\` (output in ${rel(log)})…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let code = updated ? 0 : await runLogged('apt-get', ['update'], log, { env });
    if (code === 0) updated = true;
    if (code === 0) code = await runLogged('apt-get', ['install', '-y', pkg], log, { env });
    if (code !== 0)
      throw new ServiceError(`\`${command}\` failed (exit ${code})`, `read ${rel(log)}, fix the cause, then run \`${command}\` by hand`);
    say(name, `${pkg} installed`);
  };
  const p = aptQueue.then(run);
  aptQueue = p.catch(() => {});
  return p;
}
