import type { CatalogEntry } from '../catalog/model';
import type { DesiredState, EventReport } from './reconcile';

/** A resource a source could not use as it is now (a bad edit, a file half written, a duplicate id). */
export interface SourceProblem {
  /** Where: `<file>` or `<file>#<document>` for files, `<plural>/<namespace>/<name>` for the cluster. */
  where: string;
  /** `InvalidSpec`, `InvalidYaml`, `FileEmpty`, `FileUnreadable` (files), `DuplicateId` (cluster). */
  reason: string;
  message: string;
  /** The events whose status shows it: the event itself, or the events held at a Venue. */
  eventIds: string[];
}

/** The desired state at one moment, and what the source could not read of it. */
export interface DesiredSnapshot {
  desired: DesiredState;
  problems: SourceProblem[];
  /** Read the source again this soon (a file still being written); default: the resync period. */
  requeueAfterMs?: number;
}

/**
 * Where the desired Venues and Events come from: the files of SEEDS_DIR, or the custom
 * resources of the cluster. One instance serves one leadership term: started when the term
 * starts, stopped when it ends.
 */
export interface DesiredStateSource<S extends DesiredSnapshot = DesiredSnapshot> {
  /** The catalog's `source` of the entries it owns, e.g. `file:/abs/seeds` or `cluster:shows`. */
  readonly name: string;
  /** Begins watching; `onChange` is called (often, undebounced) whenever the desired state may differ. */
  start(onChange: () => void): Promise<void>;
  /** False until the source has read the whole desired state once (informers listed). */
  synced(): boolean;
  /** `owned`: the catalog entries this source owns now (to keep ids with their owners, and bad edits from deleting). */
  snapshot(owned: CatalogEntry[]): Promise<S>;
  stop(): Promise<void>;
}

/** Checks given to every write a term makes, so a replica that lost the lease stops writing. */
export interface TermGuard {
  /** Throws TermEnded once this term is over. */
  check(): void;
  /** Reconcile again soon (a write met a conflict). */
  requeue(): void;
}

/** Where reconcile results are reported: the resources' /status, or a status the catalog API shows. */
export interface StatusSink<S extends DesiredSnapshot = DesiredSnapshot> {
  /** Before reconcile writes anything (the cluster puts its finalizers on here). */
  prepare?(snap: S, guard: TermGuard): Promise<void>;
  publish(snap: S, reports: EventReport[], guard: TermGuard): Promise<void>;
}
