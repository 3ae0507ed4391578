// Types of kafka-config.cjs for test/support/private-cluster.ts.
export interface KafkaNode {
  id: number;
  host: string;
  port: number;
  controllerPort: number;
}
export const LOG4J: string;
export function clusterNodes(brokers: string | string[]): KafkaNode[];
export function kafkaProperties(o: {
  node: KafkaNode;
  voters: KafkaNode[];
  dataDir: string;
  replicationFactor: number;
  minInsyncReplicas: number;
  partitions?: number;
  internalPartitions?: number;
  header?: string[];
  extra?: Record<string, string | number>;
}): string;
export function newClusterId(): string;
export function clusterId(idFile: string, dataDirs: string[]): string;
export function isFormatted(dataDir: string): boolean;
export function formatArgs(o: { libs: string; logDir: string; clusterId: string; props: string; jvm?: string[] }): string[];
export function serverArgs(o: { libs: string; logDir: string; heap: string[]; props: string; jvm?: string[] }): string[];
export function waitKafkaBrokers(o: {
  brokers: string[];
  expected: number;
  deadlineMs: number;
  note?: (msg: string) => void;
  died?: () => string | null;
}): Promise<number[]>;
