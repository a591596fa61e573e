/**
 * The specs npm run test:mutation runs against each mutant: the fast ones that cover the cache
 * core, the write path and the trending ranking (unit, integration, and the e2e races).
 * @type {import('jest').Config}
 */
module.exports = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config extending another
  ...require('./jest.config.js'),
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/test/integration/**/*.integration-spec.ts',
    '<rootDir>/test/e2e/write-fence.e2e-spec.ts',
    '<rootDir>/test/e2e/cold-keys.e2e-spec.ts',
    '<rootDir>/test/e2e/near-cache.e2e-spec.ts',
  ],
  globalSetup: '<rootDir>/test/support/mutation-global-setup.ts',
};
