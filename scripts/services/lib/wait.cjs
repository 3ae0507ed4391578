'use strict';
// Deadlines and polling shared by scripts/services (ESM) and test/support (TypeScript, through
// require): plain CommonJS so both load the same file.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Calls `check()` (resolving `{ ok, detail }`) until ok, and resolves the time it took. Rejects
 * when `deadlineMs` passes or `died()` names a reason to stop, with the last detail. `note(msg)`
 * hears a progress line every `noteEveryMs`.
 */
async function pollUntil({ check, what, deadlineMs, note = () => {}, died = () => null, everyMs = 300, noteEveryMs = 10_000 }) {
  const t0 = Date.now();
  let nextNote = t0 + noteEveryMs;
  for (;;) {
    const last = await check();
    if (last.ok) return Date.now() - t0;
    const death = died();
    if (death) throw Object.assign(new Error(`${what}: ${death} (last check: ${last.detail})`), { detail: last.detail });
    const elapsed = Date.now() - t0;
    if (elapsed > deadlineMs)
      throw Object.assign(new Error(`${what}: not reached after ${(deadlineMs / 1000).toFixed(0)} s (last check: ${last.detail})`), {
        detail: last.detail,
      });
    if (Date.now() >= nextNote) {
      note(`still waiting for ${what} (${(elapsed / 1000).toFixed(1)} s): ${last.detail}`);
      nextNote += noteEveryMs;
    }
    await sleep(everyMs);
  }
}

module.exports = { pollUntil, sleep, withTimeout };
