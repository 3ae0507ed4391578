import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's node environment plus @kubernetes/client-node loaded natively. The client is an ES
 * module, which Jest's CommonJS sandbox refuses without --experimental-vm-modules; required
 * here, outside the sandbox, Node 24 loads it through require(esm). Test files map the module
 * name to it with `jest.mock('@kubernetes/client-node', () => (globalThis as any).__kubeClientNode)`,
 * so the controller's own `require` gets the same, unmodified client.
 */
export default class KubeClientEnvironment extends TestEnvironment {
  constructor(...args: ConstructorParameters<typeof TestEnvironment>) {
    super(...args);
    this.global.__kubeClientNode = require('@kubernetes/client-node');
  }
}
