import { createRequire } from 'node:module';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { Config } from '../config/config';
import { API_GROUP } from '../catalog/resources';

export type KubeClientModule = typeof K8s;
export type KubeConfig = K8s.KubeConfig;

/**
 * @kubernetes/client-node is an ES module; this CommonJS project loads it through Node 24's
 * require(esm). (Jest's sandbox cannot: the cluster tests hand it the natively loaded module.)
 * A static `import` is refused by TypeScript's node16 mode (an ES module from CommonJS), and
 * would load the client in every process, not only the controller's; createRequire makes the
 * require deliberate (under Jest it is Jest's own, so jest.mock still applies).
 */
export function loadKubeClient(): KubeClientModule {
  return createRequire(__filename)('@kubernetes/client-node') as KubeClientModule;
}

/** KUBECONFIG when set (one file), else the in-cluster service account or ~/.kube/config. */
export function loadKubeConfig(k8s: KubeClientModule, cfg: Pick<Config, 'KUBECONFIG'>): KubeConfig {
  const kc = new k8s.KubeConfig();
  if (cfg.KUBECONFIG) kc.loadFromFile(cfg.KUBECONFIG);
  else kc.loadFromDefault();
  return kc;
}

export const VERSION = 'v1alpha1';
export type Plural = 'venues' | 'events';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  [key: string]: unknown;
}

/** A Venue or Event as the API server returns it, before validation. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface ObjectList {
  items: KubeObject[];
  metadata?: { resourceVersion?: string };
}

/** The HTTP status of a failed API call, whichever realm or client threw it. */
export function httpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.code ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The few Venue/Event calls the controller makes, over the generated CustomObjectsApi.
 * Patches are JSON merge patches (RFC 7386), the one strategy custom resources accept
 * besides JSON patch and server-side apply.
 */
export class CustomResourceClient {
  private readonly api: K8s.CustomObjectsApi;
  private readonly core: K8s.CoreV1Api;
  private readonly mergePatch: K8s.ConfigurationOptions;

  constructor(k8s: KubeClientModule, kc: KubeConfig) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  }

  /** Watch path for an informer: cluster-wide when `namespace` is empty. */
  static path(plural: Plural, namespace: string): string {
    return namespace ? `/apis/${API_GROUP}/${VERSION}/namespaces/${namespace}/${plural}` : `/apis/${API_GROUP}/${VERSION}/${plural}`;
  }

  async list(plural: Plural, namespace: string): Promise<ObjectList> {
    const list = namespace
      ? await this.api.listNamespacedCustomObject({ group: API_GROUP, version: VERSION, namespace, plural })
      : await this.api.listClusterCustomObject({ group: API_GROUP, version: VERSION, plural });
    return list as ObjectList;
  }

  async patchStatus(plural: Plural, meta: ObjectMeta, status: Record<string, unknown>): Promise<KubeObject> {
    const body = { status };
    const name = meta.name;
    const namespace = meta.namespace ?? '';
    return (await this.api.patchNamespacedCustomObjectStatus(
      { group: API_GROUP, version: VERSION, namespace, plural, name, body },
      this.mergePatch,
    )) as KubeObject;
  }

  /** Replaces the finalizer list, only if the object is still at the resourceVersion we saw. */
  async setFinalizers(plural: Plural, meta: ObjectMeta, finalizers: string[]): Promise<KubeObject> {
    const body = { metadata: { finalizers, resourceVersion: meta.resourceVersion } };
    return (await this.api.patchNamespacedCustomObject(
      { group: API_GROUP, version: VERSION, namespace: meta.namespace ?? '', plural, name: meta.name, body },
      this.mergePatch,
    )) as KubeObject;
  }

  /** Records a core/v1 Event on a Venue or Event resource (what `kubectl describe` shows). */
  async recordEvent(
    kind: 'Venue' | 'Event',
    meta: ObjectMeta,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ): Promise<void> {
    const now = new Date();
    const namespace = meta.namespace || 'default';
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${meta.name}.`, namespace },
        involvedObject: {
          apiVersion: `${API_GROUP}/${VERSION}`,
          kind,
          name: meta.name,
          namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
