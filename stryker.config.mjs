/**
 * Mutation testing of the cache core, the write path and the trending ranking (npm run
 * test:mutation; docs/testing.md). Too slow for every CI run: run it before landing a change there.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  // Constants read at load time would rerun every spec per mutant: measured at 74% of the run.
  ignoreStatic: true,
  mutate: [
    'src/movies/cache/read-pipeline.ts',
    'src/movies/cache/title-reads.ts',
    'src/movies/cache/movie-cache.ts',
    'src/movies/cache/movie-cache.store.ts',
    'src/movies/cache/write-fence.ts',
    'src/movies/cache/cache-policy.ts',
    'src/movies/cache/refresh-ahead.ts',
    'src/movies/cache/single-flight.ts',
    'src/movies/cache/near/near-cache.ts',
    'src/movies/cache/negative-cache.ts',
    'src/movies/cache/write-through.handler.ts',
    'src/trending/ranking.ts',
  ],
  // The specs mostly wait on Redis, MongoDB and leases: 3 workers keep 2 cores busy.
  concurrency: 3,
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
