// wrk, the HTTP load generator the bench uses for its ceilings beside the Node driver (bench/wrk.ts).
// A tool, not a service: `services:install` installs it (Debian's wrk 4.x), nothing starts it.
// Optional: without it (or without apt-get) the install still succeeds and the bench skips wrk,
// naming the command below.
import { which } from './lib/common.mjs';
import { aptCommand, aptInstall } from './lib/install.mjs';

export const WRK_HOW = `${aptCommand('wrk')} (Debian/Ubuntu), or build wrk 4.x from its sources and put it on PATH`;

export const wrk = {
  name: 'wrk',
  tool: true,
  optional: true,
  missing() {
    if (which('wrk')) return [];
    return [
      {
        what: 'wrk is not installed (optional: the bench then skips its wrk ceilings)',
        how: WRK_HOW,
        install: which('apt-get') ? () => aptInstall('wrk', 'wrk') : null,
      },
    ];
  },
};
