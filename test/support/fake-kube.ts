// This file is long because it is one coherent fake: the Kubernetes API server's list, watch,
// get, create, patch, status and Lease semantics that the unmodified client-node informers rely on.
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { KubeClientModule, KubeConfig } from '../../src/controller/kube-client';

/**
 * A FAKE Kubernetes API server, in-process over HTTP on 127.0.0.1, for tests on machines
 * without a cluster. It serves exactly what the unmodified @kubernetes/client-node informers,
 * CustomObjectsApi, CoordinationV1Api and CoreV1Api calls of the controller use:
 *
 * - list and watch of any namespaced resource (`?watch=true&resourceVersion=…`, one JSON
 *   event per line, chunked), BOOKMARK events with `allowWatchBookmarks=true`, resume from
 *   a resourceVersion, and `410 Gone` (an ERROR event) for a compacted one;
 * - create / get / replace / merge-patch / delete, one global resourceVersion counter,
 *   409 Conflict on a stale resourceVersion, 409 AlreadyExists, generation bumps on spec
 *   changes only, no-op updates that change nothing;
 * - the `/status` subresource of the ticketing.dev resources (status ignored elsewhere);
 * - deletionTimestamp + finalizers: a delete only marks, removing the last finalizer deletes;
 * - Leases and core Events as plain objects;
 * - a network partition of one client (by its bearer token): its requests hang and its
 *   watches go silent until healed.
 *
 * Not served: authentication, admission/schema validation (tests need invalid objects to
 * reach the controller), label/field selectors, server-side apply, strategic merge and JSON
 * patch, cluster-scoped resources, pagination (`limit`/`continue`).
 */

/** The metadata the server reads or owns; the rest (labels, annotations, …) passes through. */
interface ObjMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  [k: string]: unknown;
}
/** Any object the server stores (Venues, Events, Leases, core Events): JSON the server does not interpret beyond metadata. */
type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};
type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj };

/** group/version/plural, e.g. `ticketing.dev/v1alpha1/events` or `/v1/events` (core). */
export type ResourceId = string;

export const VENUES: ResourceId = 'ticketing.dev/v1alpha1/venues';
export const EVENTS: ResourceId = 'ticketing.dev/v1alpha1/events';
export const LEASES: ResourceId = 'coordination.k8s.io/v1/leases';
export const CORE_EVENTS: ResourceId = '/v1/events';

const KINDS: Record<ResourceId, string> = { [VENUES]: 'Venue', [EVENTS]: 'Event', [LEASES]: 'Lease', [CORE_EVENTS]: 'Event' };
const WITH_STATUS = new Set([VENUES, EVENTS]);
const CUSTOM = new Set([VENUES, EVENTS]);

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  at: number;
  /** The bearer token of the kubeconfig that sent it. */
  client: string;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Watcher {
  client: string;
  resource: ResourceId;
  namespace: string | undefined;
  res: ServerResponse;
  bookmarks?: NodeJS.Timeout;
}

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly store = new Map<ResourceId, Map<string, Obj>>();
  private readonly history: { rv: number; resource: ResourceId; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly partitioned = new Set<string>();
  private readonly held: IncomingMessage[] = [];
  private rv = 100;
  private compactedRv = 0;
  url = '';

  constructor(private readonly bookmarkEveryMs = 500) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const req of this.held.splice(0)) req.socket.destroy();
    for (const w of this.watchers) this.endWatch(w);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A KubeConfig of the real client pointed at this fake; the token names the client. */
  kubeConfig(k8s: KubeClientModule, token = 'test'): KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The same, as a kubeconfig file's text (for KUBECONFIG). */
  kubeConfigYaml(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: fake, cluster: { server: "${this.url}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: u, user: {} }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: u } }]',
      'current-context: fake',
      '',
    ].join('\n');
  }

  // ---- what a test does directly (same semantics as the HTTP verbs) ------------------------

  /** Like `kubectl apply`: creates, or replaces everything but status at the current version. */
  apply(obj: Obj): Obj {
    const resource = resourceOf(obj);
    const ns = obj.metadata.namespace ?? 'default';
    const existing = this.find(resource, ns, obj.metadata.name);
    if (!existing) return this.create(resource, ns, clone(obj));
    return this.update(
      resource,
      ns,
      obj.metadata.name,
      { ...clone(obj), metadata: { ...existing.metadata, ...clone(obj.metadata), resourceVersion: existing.metadata.resourceVersion } },
      false,
    );
  }

  /** Like `kubectl delete`: marks the object when it has finalizers, else removes it. */
  delete(resource: ResourceId, namespace: string, name: string): Obj {
    return this.remove(resource, namespace, name);
  }

  get(resource: ResourceId, namespace: string, name: string): Obj | undefined {
    const o = this.find(resource, namespace, name);
    return o && clone(o);
  }

  /** Replaces an object as a client with a resourceVersion would (409 on a stale one). */
  replace(resource: ResourceId, namespace: string, obj: Obj): Obj {
    return this.update(resource, namespace, obj.metadata.name, clone(obj), false);
  }

  list(resource: ResourceId): Obj[] {
    return [...(this.store.get(resource)?.values() ?? [])].map(clone);
  }

  /** Requests matching a method and a path pattern. */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  /**
   * Forces a relist: history is compacted, so resuming from any older resourceVersion gets
   * 410 Gone, and every open watch receives an ERROR event with code 410 and is closed.
   */
  expireWatches(): number {
    this.compactedRv = this.rv;
    this.history.length = 0;
    let n = 0;
    for (const w of this.watchers) {
      this.write(w, { type: 'ERROR', object: status(410, 'Expired', 'too old resource version') });
      this.endWatch(w);
      n += 1;
    }
    return n;
  }

  /** Cuts a client off: its requests get no answer, its watches no events. */
  partition(token: string): void {
    this.partitioned.add(token);
  }

  /** Reconnects it; the requests held meanwhile fail as dropped connections. */
  heal(token: string): void {
    this.partitioned.delete(token);
    for (const req of this.held.splice(0)) req.socket.destroy();
  }

  openWatches(resource?: ResourceId): number {
    return [...this.watchers].filter((w) => !resource || w.resource === resource).length;
  }

  // ---- object semantics --------------------------------------------------------------------

  private bucket(resource: ResourceId): Map<string, Obj> {
    let b = this.store.get(resource);
    if (!b) this.store.set(resource, (b = new Map()));
    return b;
  }

  private find(resource: ResourceId, ns: string, name: string): Obj | undefined {
    return this.store.get(resource)?.get(`${ns}/${name}`);
  }

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private create(resource: ResourceId, ns: string, obj: Obj): Obj {
    if (!obj.metadata?.name && obj.metadata?.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomUUID().slice(0, 8)}`;
    if (!obj.metadata?.name) throw new ApiError(422, 'Invalid', 'metadata.name: Required value');
    if (this.find(resource, ns, obj.metadata.name))
      throw new ApiError(409, 'AlreadyExists', `${resource} "${obj.metadata.name}" already exists`);
    if (WITH_STATUS.has(resource)) delete obj.status;
    obj.metadata = {
      ...obj.metadata,
      namespace: ns,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: this.nextRv(),
      ...(CUSTOM.has(resource) ? { generation: 1 } : {}),
    };
    delete obj.metadata.deletionTimestamp;
    this.bucket(resource).set(`${ns}/${obj.metadata.name}`, obj);
    this.emit(resource, 'ADDED', obj);
    return clone(obj);
  }

  /** Main resource (`statusOnly` false) or /status subresource write of a whole object. */
  private update(resource: ResourceId, ns: string, name: string, incoming: Obj, statusOnly: boolean): Obj {
    const old = this.find(resource, ns, name);
    if (!old) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    const rv = incoming.metadata?.resourceVersion;
    if (rv === undefined && CUSTOM.has(resource) && !statusOnly)
      throw new ApiError(422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    if (rv !== undefined && rv !== old.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    let next: Obj;
    if (statusOnly) {
      next = { ...clone(old), status: clone(incoming.status) };
    } else {
      next = clone(incoming);
      if (WITH_STATUS.has(resource)) next.status = clone(old.status);
      if (next.status === undefined) delete next.status;
      // What the server owns cannot be changed by a client.
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'namespace', 'name']) {
        if (old.metadata[k] === undefined) delete next.metadata[k];
        else next.metadata[k] = old.metadata[k];
      }
      const added = (next.metadata.finalizers ?? []).filter((f: string) => !(old.metadata.finalizers ?? []).includes(f));
      if (old.metadata.deletionTimestamp && added.length > 0) {
        throw new ApiError(
          422,
          'Forbidden',
          `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        );
      }
      if (Array.isArray(next.metadata.finalizers) && next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
      if (CUSTOM.has(resource) && !isDeepStrictEqual(specOf(old), specOf(next)))
        next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (isDeepStrictEqual(next, old)) return clone(old); // a no-op write: no new version, no event
    next.metadata.resourceVersion = this.nextRv();
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.bucket(resource).delete(`${ns}/${name}`);
      this.emit(resource, 'DELETED', next);
      return clone(next);
    }
    this.bucket(resource).set(`${ns}/${name}`, next);
    this.emit(resource, 'MODIFIED', next);
    return clone(next);
  }

  private remove(resource: ResourceId, ns: string, name: string): Obj {
    const old = this.find(resource, ns, name);
    if (!old) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp) return clone(old);
      const next = clone(old);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = 0;
      if (CUSTOM.has(resource)) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
      next.metadata.resourceVersion = this.nextRv();
      this.bucket(resource).set(`${ns}/${name}`, next);
      this.emit(resource, 'MODIFIED', next);
      return clone(next);
    }
    this.bucket(resource).delete(`${ns}/${name}`);
    const gone = { ...clone(old), metadata: { ...clone(old.metadata), resourceVersion: this.nextRv() } };
    this.emit(resource, 'DELETED', gone);
    return gone;
  }

  private emit(resource: ResourceId, type: WatchEvent['type'], object: Obj): void {
    const event = { type, object: clone(object) };
    this.history.push({ rv: Number(object.metadata.resourceVersion), resource, event });
    for (const w of this.watchers)
      if (w.resource === resource && (!w.namespace || w.namespace === object.metadata.namespace)) this.write(w, event);
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(u.searchParams);
    const client = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    this.requests.push({ method: req.method ?? 'GET', path: u.pathname, query, at: Date.now(), client });
    if (this.partitioned.has(client)) return void this.held.push(req);
    try {
      const route = parsePath(u.pathname);
      if (!route) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${u.pathname})`);
      const { resource, namespace, name, subresource } = route;
      if (subresource && (subresource !== 'status' || !WITH_STATUS.has(resource)))
        throw new ApiError(404, 'NotFound', `no subresource ${subresource} on ${resource}`);
      const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readJson(req);
      if (!name) {
        if (req.method === 'GET' && query.watch === 'true') return this.watch(client, resource, namespace, query, res);
        if (req.method === 'GET') return send(res, 200, this.listResponse(resource, namespace));
        if (req.method === 'POST' && namespace) return send(res, 201, this.create(resource, namespace, body as Obj));
        throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported on a collection here`);
      }
      if (!namespace) throw new ApiError(404, 'NotFound', 'only namespaced objects are served');
      switch (req.method) {
        case 'GET': {
          const o = this.find(resource, namespace, name);
          if (!o) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
          return send(res, 200, o);
        }
        case 'PUT':
          return send(res, 200, this.update(resource, namespace, name, body as Obj, subresource === 'status'));
        case 'PATCH': {
          const type = (req.headers['content-type'] ?? '').split(';')[0];
          if (type !== 'application/merge-patch+json')
            throw new ApiError(415, 'UnsupportedMediaType', `the fake serves only application/merge-patch+json patches, got ${type}`);
          const old = this.find(resource, namespace, name);
          if (!old) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
          const patched = mergePatch(clone(old), body) as Obj;
          // A resourceVersion in the patch is a precondition; without one the patch applies to the latest.
          if ((body as Obj | undefined)?.metadata?.resourceVersion === undefined)
            patched.metadata.resourceVersion = old.metadata.resourceVersion;
          return send(res, 200, this.update(resource, namespace, name, patched, subresource === 'status'));
        }
        case 'DELETE':
          return send(res, 200, this.remove(resource, namespace, name));
        default:
          throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported`);
      }
    } catch (err) {
      if (err instanceof ApiError) return send(res, err.code, status(err.code, err.reason, err.message));
      return send(res, 500, status(500, 'InternalError', String(err)));
    }
  }

  private listResponse(resource: ResourceId, namespace: string | undefined) {
    const items = [...(this.store.get(resource)?.values() ?? [])].filter((o) => !namespace || o.metadata.namespace === namespace);
    const [group, version] = resource.split('/');
    return {
      apiVersion: group ? `${group}/${version}` : version,
      kind: `${KINDS[resource] ?? 'Object'}List`,
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private watch(
    client: string,
    resource: ResourceId,
    namespace: string | undefined,
    query: Record<string, string>,
    res: ServerResponse,
  ): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { client, resource, namespace, res };
    const from = query.resourceVersion;
    if (!from || from === '0') {
      for (const o of this.store.get(resource)?.values() ?? [])
        if (!namespace || o.metadata.namespace === namespace) this.write(w, { type: 'ADDED', object: o });
    } else if (Number(from) < this.compactedRv) {
      this.write(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) });
      return void res.end();
    } else {
      for (const h of this.history)
        if (h.rv > Number(from) && h.resource === resource && (!namespace || h.event.object.metadata.namespace === namespace))
          this.write(w, h.event);
    }
    if (query.allowWatchBookmarks === 'true') {
      w.bookmarks = setInterval(() => {
        const [group, version] = resource.split('/');
        this.write(w, {
          type: 'BOOKMARK',
          object: {
            apiVersion: group ? `${group}/${version}` : version,
            kind: KINDS[resource],
            metadata: { resourceVersion: String(this.rv) },
          },
        });
      }, this.bookmarkEveryMs);
    }
    this.watchers.add(w);
    res.on('close', () => this.endWatch(w));
  }

  private write(w: Watcher, event: { type: string; object: unknown }): void {
    if (!w.res.writableEnded && !this.partitioned.has(w.client)) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private endWatch(w: Watcher): void {
    clearInterval(w.bookmarks);
    this.watchers.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }
}

export async function startFakeKube(bookmarkEveryMs?: number): Promise<FakeKubeApiServer> {
  return new FakeKubeApiServer(bookmarkEveryMs).start();
}

/**
 * @kubernetes/client-node as Node loaded it natively. Jest's module sandbox cannot require an
 * ES module without --experimental-vm-modules, so test/controller/support/kube-environment.ts
 * loads it outside the sandbox; a test file using it starts with
 * `/** @jest-environment ./test/controller/support/kube-environment.ts *\/` and
 * `jest.mock('@kubernetes/client-node', () => (globalThis as { __kubeClientNode?: unknown }).__kubeClientNode)`.
 */
export function nativeKubeClient(): KubeClientModule {
  const k8s = (globalThis as { __kubeClientNode?: KubeClientModule }).__kubeClientNode;
  if (!k8s)
    throw new Error(
      '@kubernetes/client-node is not loaded: add the @jest-environment docblock of test/controller/support/kube-environment.ts to this test file',
    );
  return k8s;
}

function parsePath(p: string): { resource: ResourceId; namespace?: string; name?: string; subresource?: string } | undefined {
  const parts = p.split('/').filter(Boolean);
  let prefix: string;
  if (parts[0] === 'api' && parts[1]) {
    prefix = `/${parts[1]}`;
    parts.splice(0, 2);
  } else if (parts[0] === 'apis' && parts[1] && parts[2]) {
    prefix = `${parts[1]}/${parts[2]}`;
    parts.splice(0, 3);
  } else return undefined;
  let rest = parts;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  if (!plural || rest.length > 3) return undefined;
  return { resource: `${prefix}/${plural}`, namespace, name, subresource };
}

function resourceOf(obj: Obj): ResourceId {
  if (obj.apiVersion === 'ticketing.dev/v1alpha1' && obj.kind === 'Venue') return VENUES;
  if (obj.apiVersion === 'ticketing.dev/v1alpha1' && obj.kind === 'Event') return EVENTS;
  if (obj.apiVersion === 'coordination.k8s.io/v1' && obj.kind === 'Lease') return LEASES;
  throw new Error(`the fake API server does not serve ${obj.apiVersion} ${obj.kind}`);
}

function specOf(o: Obj): unknown {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the request body is not JSON');
  }
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
