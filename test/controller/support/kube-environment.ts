import { createRequire } from 'node:module';
import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's node environment plus @kubernetes/client-node loaded natively. The client is an ES
 * module, which Jest's CommonJS sandbox refuses without --experimental-vm-modules; required
 * here, outside the sandbox, Node 24 loads it through require(esm). Test files map the module
 * name to it with `jest.mock('@kubernetes/client-node', () => (globalThis as { __kubeClientNode?: unknown }).__kubeClientNode)`,
 * so the controller's own `require` gets the same, unmodified client. (A static `import` is
 * refused by TypeScript's node16 mode: an ES module from CommonJS.)
 */
export default class KubeClientEnvironment extends TestEnvironment {
  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    this.global.__kubeClientNode = createRequire(__filename)('@kubernetes/client-node') as unknown;
  }
}
