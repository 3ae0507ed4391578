// The nodes the cluster topology runs on this machine, from the variable the platform reads too
// (REDIS_CLUSTER_NODES, KAFKA_BROKERS), so services and platform always agree on the ports.
// cli.mjs applies scripts/topology/cluster.env first: unset variables come from there.
import { topologyVariables } from '../../topology/topology.cjs';

const LOCAL = new Set(['127.0.0.1', 'localhost']);

/** Parsed nodes of `variable`; exits with a message when they are not host:port on this machine. */
export function localNodes(variable, parse) {
  const list = process.env[variable] || topologyVariables('cluster')[variable];
  let nodes;
  try {
    nodes = parse(list);
  } catch (e) {
    nodes = [];
    console.error(`[services] ${variable}=${list}: ${e.message}`);
  }
  const remote = nodes.filter((n) => !LOCAL.has(n.host));
  if (!nodes.length || remote.length) {
    console.error(
      `[services] ${variable}=${list} must list host:port on this machine (127.0.0.1) for services:up to start them; unset it to use scripts/topology/cluster.env`,
    );
    process.exit(2);
  }
  return nodes;
}
