/**
 * Two projects (docs/testing.md):
 * - unit: files named `*.unit.test.ts`. They need no service: no Redis, Kafka, DynamoDB or
 *   MySQL, so there is no global setup. `npm run test:unit`.
 * - integration: every other `*.test.ts`, against the real services that `npm run services:up`
 *   starts; the global setup fails fast when one is down. `npm run test:integration`.
 * `npm test` runs both. JEST_PROJECT=unit|integration picks one (the npm scripts set it; not
 * `--selectProjects`, which would swallow the file paths given after it).
 */
// TOPOLOGY=cluster: the same variables as `npm test` exports (scripts/topology/topology.cjs), also
// for a bare `npx jest`; the workers inherit them.
require('./scripts/topology/topology.cjs').applyTopologyOrExit();

const PLATFORMATIC_ESM = ['@platformatic/kafka', '@platformatic/dynamic-buffer', '@platformatic/wasm-utils'];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // @marcbachmann/cel-js and jose are ES modules; Jest's CommonJS sandbox needs them compiled
    // (Node itself loads them through require(esm)).
    '^.+/node_modules/(@marcbachmann/cel-js|jose)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2023' } },
    ],
    // @platformatic/kafka (the producer) and its ES-module dependencies use `import.meta.url`.
    [`^.+/node_modules/(${PLATFORMATIC_ESM.join('|')})/.+\\.js$`]: '<rootDir>/test/support/esm-to-cjs.cjs',
  },
  transformIgnorePatterns: [`/node_modules/(?!(@marcbachmann/cel-js|jose|${PLATFORMATIC_ESM.join('|')})/)`],
};

const projects = [
  { ...shared, displayName: 'unit', testMatch: ['**/*.unit.test.ts'] },
  {
    ...shared,
    displayName: 'integration',
    testMatch: ['**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$'],
    globalSetup: '<rootDir>/test/support/global-setup.ts',
  },
];

const only = process.env.JEST_PROJECT;
if (only && !projects.some((p) => p.displayName === only)) {
  throw new Error(`JEST_PROJECT=${only}: use one of ${projects.map((p) => p.displayName).join(', ')}, or unset it to run both.`);
}

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: only ? projects.filter((p) => p.displayName === only) : projects,
};
