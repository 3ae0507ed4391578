/**
 * Two projects (docs/testing.md):
 * - unit: files named `*.unit.test.ts`. They need no service: no Redis, Kafka, DynamoDB or
 *   MySQL, so there is no global setup. `npm run test:unit`.
 * - integration: every other `*.test.ts`, against the real services that `npm run services:up`
 *   starts; the global setup fails fast when one is down. `npm run test:integration`.
 * `npm test` runs both.
 */
const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['**/*.unit.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
