// Types of wait.cjs for test/support/private-cluster.ts.
export function sleep(ms: number): Promise<void>;
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T>;
export function pollUntil(o: {
  check: () => Promise<{ ok: boolean; detail: string }>;
  what: string;
  deadlineMs: number;
  note?: (msg: string) => void;
  died?: () => string | null;
  everyMs?: number;
  noteEveryMs?: number;
}): Promise<number>;
