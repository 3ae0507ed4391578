import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
export function load(): typeof K8s {
  const { createRequire } = process.getBuiltinModule('node:module');
  return createRequire(__filename)('@kubernetes/client-node') as typeof K8s;
}
