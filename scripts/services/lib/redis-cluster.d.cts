// Types of redis-cluster.cjs for test/support/private-cluster.ts.
export interface ClusterNode {
  id: string;
  host: string;
  port: number;
  role: 'master' | 'replica';
  masterId: string | null;
  slots: [number, number][];
  failed: boolean;
  myself: boolean;
  connected: boolean;
}
export interface NodeView {
  ok: boolean;
  listening?: boolean;
  port: number;
  detail: string;
  info?: Record<string, string>;
  nodes?: ClusterNode[];
  myself?: ClusterNode;
  replication?: Record<string, string>;
}
export interface Ready {
  ok: boolean;
  detail: string;
  views: NodeView[];
}
export const SLOTS: number;
export function redisNodeArgs(o: { host: string; port: number; dir: string; nodeTimeoutMs?: number }): string[];
export function nodePorts(port: number): number[];
export function parseNodeList(list: string): { host: string; port: number }[];
export function parseClusterNodes(text: string): ClusterNode[];
export function nodeView(host: string, port: number): Promise<NodeView>;
export function describeRole(view: NodeView): string;
export function clusterReady(o: { host: string; ports: number[]; masters: number; replicas: number }): Promise<Ready>;
export function ensureRedisCluster(o: {
  host: string;
  ports: number[];
  replicasPerMaster?: number;
  redisCli: string;
  log: string;
  deadlineMs?: number;
  note?: (msg: string) => void;
}): Promise<{ created: boolean; ms: number; detail: string }>;
export function keySlot(host: string, port: number, key: string): Promise<number>;
export function masterOfSlot(view: NodeView, slot: number): ClusterNode | null;
