/**
 * When the supervisor starts a dead role again: 0.5 s, doubling up to 10 s while the role keeps
 * dying young; a role that ran 30 s or more counts as healthy and is restarted after 0.5 s again.
 * Five young deaths in a row are a crash loop: waiting longer does not help, a person must look.
 */
export interface RestartPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A run at least this long resets the backoff. */
  healthyAfterMs: number;
  /** This many young deaths in a row are reported as a crash loop. */
  crashLoopAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  firstDelayMs: 500,
  maxDelayMs: 10_000,
  healthyAfterMs: 30_000,
  crashLoopAfter: 5,
};

/** A role's deaths in a row, each within healthyAfterMs of its start. */
export interface RestartState {
  youngDeaths: number;
}

export interface RestartDecision {
  delayMs: number;
  state: RestartState;
  /** True exactly when this death makes the run of young deaths a crash loop (reported once per loop). */
  crashLoop: boolean;
}

/** The next restart after a run of `ranMs`. */
export function nextRestart(prev: RestartState, ranMs: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  const youngDeaths = ranMs >= policy.healthyAfterMs ? 1 : prev.youngDeaths + 1;
  const delayMs = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (youngDeaths - 1));
  return { delayMs, state: { youngDeaths }, crashLoop: youngDeaths === policy.crashLoopAfter };
}
