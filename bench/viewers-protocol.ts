/** Messages between the viewers benchmark's driver (bench/viewers-phase.ts) and its viewer processes (bench/viewers-worker.ts). */
import type { Purchase, SeenReport } from './viewers-seen';

export type ViewerMode = 'stream' | 'poll';

export interface OpenMessage {
  type: 'open';
  mode: ViewerMode;
  /** The api, e.g. http://127.0.0.1:8080. */
  url: string;
  eventId: string;
  zoneId: string;
  count: number;
  /** Source address of this process's connections (127.x.y.z): its own range of ephemeral ports. */
  localAddress: string;
  /** Streams being opened at once (the api's listen backlog is 511). */
  connectConcurrency: number;
  /** Polling pages opened per second by this process. */
  openPerSecond: number;
  pollEveryMs: number;
  /** How long the opening may take: viewers not open by then count as failed. */
  openTimeoutMs: number;
}

export type ToWorker =
  | OpenMessage
  /** How far the viewers are: every purchased seat seen? */
  | { type: 'progress'; purchases: Purchase[] }
  | { type: 'report'; purchases: Purchase[] }
  | { type: 'close' };

/** Counters a worker keeps from its start (the driver takes differences over its window). */
export interface WorkerCounters {
  /** Answers by HTTP status (polling), or stream responses by status. */
  statuses: Record<string, number>;
  /** Requests that failed without an answer, and streams that ended before the close. */
  errors: number;
  /** Bytes received. */
  bytes: number;
  /** This process's CPU (µs, user + system). */
  cpuMicros: number;
}

export interface WorkerReport extends SeenReport {
  viewers: number;
  gaps: number;
  resyncs: number;
  /** Streams that ended or failed before the close. */
  dropped: number;
  /** Stream: the zone as its frames tell it (taken bits, base64) and that picture's seq. */
  picture?: { seq: number; taken: string };
  /** Stream: the lowest and highest last seq over the viewers. */
  lastSeq?: { min: number; max: number };
  /** Sample of errors seen. */
  errorSamples: string[];
}

export type FromWorker =
  | { type: 'opened'; open: number; failed: number; errorSamples: string[]; seconds: number }
  | { type: 'progress'; notDone: number; counters: WorkerCounters }
  | { type: 'report'; report: WorkerReport; counters: WorkerCounters }
  | { type: 'closed' }
  | { type: 'fatal'; message: string };
