import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CatalogEntry } from '../catalog/model';
import { parseResources, type EventResource, type ParsedResources, type VenueResource } from '../catalog/resources';
import type { DesiredSnapshot, DesiredStateSource, SourceProblem } from './source';

const isYaml = (f: string) => /\.ya?ml$/.test(f);

/** Reads every Venue and Event in the YAML files of a folder (multi-document files allowed), once. */
export async function loadFolder(dir: string): Promise<ParsedResources> {
  const files = (await readdir(dir)).filter(isYaml).sort();
  const docs: { where: string; doc: unknown }[] = [];
  const errors: ParsedResources['errors'] = [];
  for (const file of files) {
    const where = path.join(dir, file);
    for (const [i, doc] of parseAllDocuments(await readFile(where, 'utf8')).entries()) {
      if (doc.errors.length > 0) errors.push({ where: `${where}#${i}`, message: doc.errors.map((e) => e.message).join('; ') });
      else if (doc.contents !== null) docs.push({ where: `${where}#${i}`, doc: doc.toJS() });
    }
  }
  const parsed = parseResources(docs);
  parsed.errors.unshift(...errors);
  return parsed;
}

type Resource = VenueResource | EventResource;
/** `Venue/<namespace>/<name>` or `Event/<namespace>/<name>`. */
type Identity = string;

/** What a document says it is, also when the schema refuses it (its last good version is kept by this). */
function identityOf(doc: unknown): Identity | undefined {
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  if (!d || (d.kind !== 'Venue' && d.kind !== 'Event') || typeof d.metadata?.name !== 'string') return undefined;
  return `${d.kind}/${typeof d.metadata.namespace === 'string' ? d.metadata.namespace : ''}/${d.metadata.name}`;
}

const identity = (r: Resource): Identity => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;

interface FileProblem {
  where: string;
  reason: string;
  message: string;
  /** The resources it concerns (to find the events whose status shows it). */
  concerns: Identity[];
}

export interface FileSourceOptions {
  /** A file changed less than this long ago may still be being written: it is read again after. */
  settleMs?: number;
}

/**
 * The file source: every Venue and Event of the YAML files in one folder. A bad edit never
 * drops a resource: each file's last good version is kept, per file and per resource name.
 * - A file that does not parse as YAML (or that is empty, or unreadable) counts as unchanged.
 * - A document the schema refuses keeps the last good version of that resource (by kind and
 *   name); the file's other documents apply.
 * - A file changed less than `settleMs` ago may still be being written (an editor that does
 *   not write atomically): its last good version stays until it has settled.
 * Each of these is reported as a problem. Without a last good version (after a restart) the
 * catalog is what was last good: its entries of the resources concerned are kept, and when
 * the resources of a file cannot be told at all, no entry of the source is removed. So too
 * while a file without a last good version settles (a term's first read of a file just
 * written): no entry of the source is removed until it has settled and been read.
 */
export class FileSource implements DesiredStateSource {
  readonly name: string;
  private readonly settleMs: number;
  private lastGood = new Map<string, Map<Identity, Resource>>();
  /** The problems each file had at the last read: still shown while the file settles. */
  private lastProblems = new Map<string, FileProblem[]>();
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly dir: string,
    opts: FileSourceOptions = {},
  ) {
    this.name = `file:${dir}`;
    this.settleMs = opts.settleMs ?? 300;
  }

  async start(onChange: () => void): Promise<void> {
    // Raw events: the work queue debounces them. A watch that fails (the folder went away)
    // leaves the resync to notice; the reconcile then fails and is retried, removing nothing.
    this.watcher = watch(this.dir, () => onChange());
    this.watcher.on('error', () => onChange());
  }

  synced(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.watcher?.close();
  }

  async snapshot(owned: CatalogEntry[]): Promise<DesiredSnapshot> {
    const problems: FileProblem[] = [];
    const unknownKept = new Set<Identity>();
    let keepAll = false;
    let requeueAfterMs: number | undefined;
    const next = new Map<string, Map<Identity, Resource>>();
    const problemsByFile = new Map<string, FileProblem[]>();

    for (const file of (await readdir(this.dir)).filter(isYaml).sort()) {
      const where = path.join(this.dir, file);
      const previous = this.lastGood.get(file);
      // Every file waits until it has settled, also on a term's first read (no last good version
      // in memory, after a restart or a failover): a file cut between two documents is still
      // valid YAML, and read at once its missing documents would remove their events. Meanwhile
      // nothing of the source is removed (below) and the file is read again once it settled.
      const read = await readSettled(where, this.settleMs);
      if (read.kind === 'gone') continue;
      const outcome: FileOutcome =
        read.kind === 'unsettled'
          ? { keep: 'previous', problems: this.lastProblems.get(file) ?? [], unknownKept: [] }
          : readFileResources(where, read, previous);
      if (read.kind === 'unsettled') requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, read.retryInMs);
      if (outcome.keep === 'previous') {
        if (previous) next.set(file, previous);
        else keepAll = true; // nothing known of the file: remove nothing of the source meanwhile
      } else next.set(file, outcome.keep);
      for (const id of outcome.unknownKept) unknownKept.add(id);
      if (outcome.keepAll) keepAll = true;
      problems.push(...outcome.problems);
      problemsByFile.set(file, outcome.problems);
    }
    this.lastGood = next;
    this.lastProblems = problemsByFile;

    const resources = [...next.values()].flatMap((m) => [...m.values()]);
    const venues = resources.filter((r): r is VenueResource => r.kind === 'Venue');
    const events = resources.filter((r): r is EventResource => r.kind === 'Event');
    const keptNames = { Event: new Set<string>(), Venue: new Set<string>() };
    for (const id of unknownKept) keptNames[id.split('/')[0] as 'Event' | 'Venue'].add(id.split('/')[2]!);
    return {
      desired: {
        venues,
        events,
        keep: (entry) => keepAll || keptNames.Event.has(entry.event.resourceName) || keptNames.Venue.has(entry.venue.resourceName),
      },
      problems: problems.map((p): SourceProblem => ({
        where: p.where,
        reason: p.reason,
        message: p.message,
        eventIds: eventIdsOf(p.concerns, events, owned),
      })),
      ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    };
  }
}

interface FileOutcome {
  /** The file's resources now, or 'previous': the file counts as unchanged. */
  keep: Map<Identity, Resource> | 'previous';
  problems: FileProblem[];
  /** Refused resources without a last good version: their catalog entries are kept. */
  unknownKept: Identity[];
  /** A refused document that does not say what it is, in a file without a last good version. */
  keepAll?: boolean;
}

/** One file's resources, with the last good version of each resource its edit broke. */
function readFileResources(
  where: string,
  read: Exclude<Read, { kind: 'gone' | 'unsettled' }>,
  previous: Map<Identity, Resource> | undefined,
): FileOutcome {
  const unchanged = (reason: string, message: string): FileOutcome => ({
    keep: 'previous',
    problems: [{ where, reason, message, concerns: [...(previous?.keys() ?? [])] }],
    unknownKept: [],
  });
  if (read.kind === 'unreadable') return unchanged('FileUnreadable', `${where} cannot be read (${read.message}); fix its permissions`);
  const docs = parseAllDocuments(read.text);
  const yamlErrors = docs.flatMap((d, i) => d.errors.map((e) => `document ${i + 1}: ${e.message}`));
  if (yamlErrors.length > 0)
    return unchanged('InvalidYaml', `${where} is not valid YAML (${yamlErrors.join('; ')}); fix the file and save it again`);
  if (read.text.trim() === '' && previous?.size)
    return unchanged('FileEmpty', `${where} is empty (half written?); to remove its resources delete the file`);

  const out: FileOutcome & { keep: Map<Identity, Resource> } = { keep: new Map(), problems: [], unknownKept: [] };
  let unidentified = false;
  for (const [i, doc] of docs.entries()) {
    if (doc.contents === null) continue;
    const raw = doc.toJS();
    const parsed = parseResources([{ where: `${where}#${i}`, doc: raw }]);
    const resource: Resource | undefined = parsed.venues[0] ?? parsed.events[0];
    if (resource) {
      out.keep.set(identity(resource), resource);
      continue;
    }
    const id = identityOf(raw);
    const what = id ? ` (${id.split('/')[0]} ${id.split('/')[2]})` : '';
    out.problems.push({
      where: `${where}#${i}`,
      reason: 'InvalidSpec',
      message: `${where} document ${i + 1}${what} is refused by the schema: ${parsed.errors[0]?.message ?? 'invalid'}; fix it and save the file again`,
      concerns: id ? [id] : [...(previous?.keys() ?? [])],
    });
    const old = id ? previous?.get(id) : undefined;
    if (id && old) out.keep.set(id, old);
    else if (id) out.unknownKept.push(id);
    else unidentified = true;
  }
  if (unidentified) {
    // A document that does not even say what it is: keep every resource the file had.
    for (const [id, r] of previous ?? []) if (!out.keep.has(id)) out.keep.set(id, r);
    if (!previous) out.keepAll = true;
  }
  return out;
}

type Read =
  { kind: 'text'; text: string } | { kind: 'gone' } | { kind: 'unsettled'; retryInMs: number } | { kind: 'unreadable'; message: string };

/** A file's text once it has not changed for `settleMs`; changed during the read, it is unsettled too. */
async function readSettled(file: string, settleMs: number): Promise<Read> {
  try {
    const { mtimeMs } = await stat(file);
    const unsettled = (changedAt: number): Read => ({ kind: 'unsettled', retryInMs: Math.ceil(settleMs - (Date.now() - changedAt)) + 10 });
    if (Date.now() - mtimeMs < settleMs) return unsettled(mtimeMs);
    const text = await readFile(file, 'utf8');
    const after = (await stat(file)).mtimeMs;
    if (after !== mtimeMs) return unsettled(after);
    return { kind: 'text', text };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    return { kind: 'unreadable', message: (err as Error).message };
  }
}

/** The events a problem shows on: the Event itself, or every Event held at a Venue (from the files, else the catalog). */
function eventIdsOf(concerns: Identity[], events: EventResource[], owned: CatalogEntry[]): string[] {
  const ids = new Set<string>();
  for (const id of concerns) {
    const [kind, namespace, name] = id.split('/') as ['Venue' | 'Event', string, string];
    if (kind === 'Event') {
      for (const e of events) if (e.metadata.name === name && (e.metadata.namespace ?? '') === namespace) ids.add(e.spec.eventId);
      for (const e of owned) if (e.event.resourceName === name) ids.add(e.event.eventId);
    } else {
      for (const e of events) if (e.spec.venueRef.name === name && (e.metadata.namespace ?? '') === namespace) ids.add(e.spec.eventId);
      for (const e of owned) if (e.venue.resourceName === name) ids.add(e.event.eventId);
    }
  }
  return [...ids].sort();
}
