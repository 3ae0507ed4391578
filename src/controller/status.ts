import type { Condition } from './reconcile';

/** A condition as the CRDs store it (metav1.Condition without the Unknown status). */
export interface StatusCondition extends Condition {
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ResourceStatus {
  observedGeneration?: number;
  seatsSold?: number;
  seatsAvailable?: number;
  conditions?: StatusCondition[];
}

/** What the controller wants a resource's status to say; counts are left alone when absent. */
export interface DesiredStatus {
  /** observedGeneration, when given, is the generation a condition was last judged on. */
  conditions: (Condition & { observedGeneration?: number })[];
  seatsSold?: number;
  seatsAvailable?: number;
}

/** A condition whose status changed (or that appeared), for Kubernetes Events. */
export interface Transition {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

const ORDER = ['Seeded', 'OnSale', 'SoldOut', 'Degraded'];

/** Reads a status written by anyone (or nobody) without trusting its shape. */
export function readStatus(raw: unknown): ResourceStatus {
  const s = (raw ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const conditions = Array.isArray(s.conditions)
    ? (s.conditions as Record<string, unknown>[])
        .filter((c) => c && typeof c.type === 'string')
        .map((c) => ({
          type: c.type as Condition['type'],
          status: c.status === 'True' ? ('True' as const) : ('False' as const),
          reason: typeof c.reason === 'string' ? c.reason : '',
          message: typeof c.message === 'string' ? c.message : '',
          lastTransitionTime: typeof c.lastTransitionTime === 'string' ? c.lastTransitionTime : '',
          ...(num(c.observedGeneration) !== undefined ? { observedGeneration: num(c.observedGeneration) } : {}),
        }))
    : undefined;
  return {
    ...(num(s.observedGeneration) !== undefined ? { observedGeneration: num(s.observedGeneration) } : {}),
    ...(num(s.seatsSold) !== undefined ? { seatsSold: num(s.seatsSold) } : {}),
    ...(num(s.seatsAvailable) !== undefined ? { seatsAvailable: num(s.seatsAvailable) } : {}),
    ...(conditions ? { conditions } : {}),
  };
}

/**
 * The status to write, or undefined when the resource already shows it: an unchanged
 * reconcile never patches. A condition keeps its lastTransitionTime while its status holds.
 */
export function nextStatus(
  currentRaw: unknown,
  desired: DesiredStatus,
  generation: number | undefined,
  now: Date,
): { status: ResourceStatus; transitions: Transition[] } | undefined {
  const current = readStatus(currentRaw);
  const before = new Map((current.conditions ?? []).map((c) => [c.type, c]));
  const transitions: Transition[] = [];
  const conditions: StatusCondition[] = [...desired.conditions]
    .sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type))
    .map((c) => {
      const old = before.get(c.type);
      const changed = !old || old.status !== c.status || !old.lastTransitionTime;
      if (changed) transitions.push({ type: c.type, status: c.status, reason: c.reason, message: c.message });
      return {
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
        lastTransitionTime: changed ? now.toISOString() : old.lastTransitionTime,
        ...((c.observedGeneration ?? generation) !== undefined ? { observedGeneration: c.observedGeneration ?? generation } : {}),
      };
    });
  const status: ResourceStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...((desired.seatsSold ?? current.seatsSold) !== undefined ? { seatsSold: desired.seatsSold ?? current.seatsSold } : {}),
    ...((desired.seatsAvailable ?? current.seatsAvailable) !== undefined
      ? { seatsAvailable: desired.seatsAvailable ?? current.seatsAvailable }
      : {}),
    conditions,
  };
  return sameStatus(current, status) ? undefined : { status, transitions };
}

/**
 * The conditions a resource has, with Degraded set: for resources that could not be
 * reconciled. The others still describe the generation they were judged on.
 */
export function degraded(currentRaw: unknown, reason: string, message: string): DesiredStatus {
  const kept = (readStatus(currentRaw).conditions ?? []).filter((c) => c.type !== 'Degraded' && ORDER.includes(c.type));
  return {
    conditions: [
      ...kept.map(({ type, status, reason: r, message: m, observedGeneration }) => ({
        type,
        status,
        reason: r,
        message: m,
        ...(observedGeneration !== undefined ? { observedGeneration } : {}),
      })),
      { type: 'Degraded', status: 'True', reason, message },
    ],
  };
}

function sameStatus(a: ResourceStatus, b: ResourceStatus): boolean {
  if (a.observedGeneration !== b.observedGeneration || a.seatsSold !== b.seatsSold || a.seatsAvailable !== b.seatsAvailable) return false;
  const ac = a.conditions ?? [];
  const bc = b.conditions ?? [];
  if (ac.length !== bc.length) return false;
  const byType = new Map(ac.map((c) => [c.type, c]));
  return bc.every((c) => {
    const o = byType.get(c.type);
    return (
      !!o &&
      o.status === c.status &&
      o.reason === c.reason &&
      o.message === c.message &&
      o.observedGeneration === c.observedGeneration &&
      o.lastTransitionTime === c.lastTransitionTime
    );
  });
}
