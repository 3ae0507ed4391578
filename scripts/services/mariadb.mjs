// MySQL for the read model: the machine's MariaDB on 127.0.0.1:3306 (MYSQL_PORT), root without
// a password. Started only if nothing answers; `up` then creates the databases.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CMD, HOST, intEnv, logFile, pidFile, rel, require, say, ServiceError, secs, tail, withTimeout } from './lib/common.mjs';
import { aptCommand, aptInstall } from './lib/install.mjs';
import { reportHealthy, requireInstalled, stopOwned, waitHealthy, withLock } from './lib/lifecycle.mjs';
import { pidFileDied, processAgeMs, processesByExe, runLogged } from './lib/proc.mjs';

const PORT = intEnv('MYSQL_PORT', 3306);
const MARIADBD = '/usr/sbin/mariadbd';
const DATABASES = ['ticketing', 'ticketing_test'];

async function probe() {
  const mysql = require('mysql2/promise');
  let conn;
  try {
    conn = await withTimeout(
      mysql.createConnection({ host: HOST, port: PORT, user: 'root', password: '', connectTimeout: 2000 }),
      4000,
      'connect',
    );
    await withTimeout(conn.query('SELECT 1'), 4000, 'SELECT 1');
    return { ok: true, detail: 'SELECT 1 ok' };
  } catch (e) {
    const refused = e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message);
    return {
      ok: false,
      listening: !refused,
      code: e.code,
      detail: refused ? `nothing listening on ${HOST}:${PORT}` : `${e.code ?? ''} ${e.message}`.trim(),
    };
  } finally {
    if (conn) await conn.end().catch(() => conn.destroy());
  }
}

export const mariadb = {
  name: 'mariadb',
  port: PORT,
  ports: [PORT],
  portEnv: 'MYSQL_PORT',
  processMatch: 'mariadbd',
  log: logFile('mariadb'),
  deadlineMs: 60_000,
  stopDeadlineMs: 60_000,
  external: "the machine's MariaDB",
  probe,
  /** Needed only when nothing answers on the port: an external MySQL/MariaDB is fine. */
  async missingWhenDown() {
    if ((await probe()).ok) return [];
    return this.missing();
  },
  missing() {
    return fs.existsSync(MARIADBD)
      ? []
      : [
          {
            what: `${MARIADBD} is missing (mariadb-server is not installed)`,
            how: aptCommand('mariadb-server'),
            install: () => aptInstall('mariadb', 'mariadb-server'),
          },
        ];
  },
  async up() {
    let state = await probe();
    if (!state.ok) state = await withLock(this.name, () => this.bringUp());
    else reportHealthy(this, 0);
    await this.createDatabases();
    return state;
  },
  async bringUp() {
    const first = await probe();
    if (first.ok) return reportHealthy(this, 0);
    if (first.listening) {
      const denied = /ACCESS_DENIED|Access denied/i.test(first.detail);
      const hint = denied
        ? `the platform connects as root with an empty password (MYSQL_URL=mysql://root@127.0.0.1:${PORT}/ticketing); allow it, e.g. \`mysql -uroot -p -e "CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"\``
        : `check what listens there (\`ss -ltnp 'sport = :${PORT}'\`) and its log; MariaDB logs are usually in /var/log/mysql/ or .services/logs/mariadb.log`;
      if (denied) throw new ServiceError(`${HOST}:${PORT} answers but refuses root with an empty password: ${first.detail}`, hint);
      // a server that is still starting answers with errors for a moment: give it a short grace period
      try {
        return reportHealthy(this, await waitHealthy(this, { deadlineMs: 10_000 }), true);
      } catch {
        throw new ServiceError(`${HOST}:${PORT} answers but \`SELECT 1\` as root fails: ${first.detail}`, hint);
      }
    }
    const running = processesByExe(MARIADBD);
    if (running.length) {
      // still starting (e.g. crash recovery), or running with another port/config? Allow it the
      // start deadline counted from its own start.
      const remaining = Math.max(5000, this.deadlineMs - Math.min(...running.map(processAgeMs)));
      say(
        this.name,
        `mariadbd is running (pid ${running.join(', ')}) but not answering on ${HOST}:${PORT} yet; waiting up to ${secs(remaining)}…`,
      );
      try {
        return reportHealthy(this, await waitHealthy(this, { deadlineMs: remaining }), true);
      } catch (e) {
        e.next = `it may listen elsewhere or be stuck: check \`ss -ltnp | grep mariadbd\`, /var/log/mysql/ and ${rel(this.log)}; stop it (\`kill ${running[0]}\`) and rerun \`${CMD.up('mariadb')}\` to start it fresh`;
        throw e;
      }
    }
    requireInstalled(this);
    return reportHealthy(this, await this.start().then((died) => this.waitOrExplain(died)), true);
  },
  async start() {
    // the socket and pid file live in /run/mysqld, which is gone after a reboot
    fs.mkdirSync('/run/mysqld', { recursive: true });
    spawnSync('chown', ['mysql:mysql', '/run/mysqld']);
    const pf = pidFile(this.name);
    const args = ['--start', '--oknodo', '--background', '--make-pidfile', '--pidfile', pf, '--output', this.log, '--exec', MARIADBD];
    say(this.name, `nothing answers on ${HOST}:${PORT}; starting it: start-stop-daemon ${args.join(' ')}`);
    const code = await runLogged('start-stop-daemon', args, this.log);
    if (code !== 0)
      throw new ServiceError(
        `start-stop-daemon failed (exit ${code}); last lines of ${rel(this.log)}:\n${tail(this.log)}`,
        `read ${rel(this.log)}, fix the cause, then rerun \`${CMD.up('mariadb')}\``,
      );
    return pidFileDied(pf, 'mariadbd');
  },
  async waitOrExplain(died) {
    try {
      return await waitHealthy(this, { deadlineMs: this.deadlineMs, died });
    } catch (e) {
      e.next = `read ${rel(this.log)} and /var/log/mysql/error.log (if present); \`journalctl\` is not available here, so also try \`${MARIADBD} --user=mysql\` in a terminal to see why it stops`;
      throw e;
    }
  },
  async createDatabases() {
    const mysql = require('mysql2/promise');
    const conn = await mysql.createConnection({ host: HOST, port: PORT, user: 'root', password: '', connectTimeout: 3000 });
    try {
      for (const db of DATABASES)
        await conn.query(`CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } catch (e) {
      throw new ServiceError(
        `CREATE DATABASE failed: ${e.message}`,
        `root@${HOST} needs CREATE privileges; create them by hand: \`mysql -uroot -h${HOST} -e "CREATE DATABASE IF NOT EXISTS ticketing; CREATE DATABASE IF NOT EXISTS ticketing_test"\``,
      );
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
    say(this.name, `databases ready: ${DATABASES.join(', ')}`);
  },
  stop() {
    return stopOwned(this);
  },
};
