import { Metadata, status } from '@grpc/grpc-js';
import { TRENDING_ALL_KEY } from '../../src/redis/cache-keys';
import { parseWorkload, requestSequence } from '../../src/benchmark/workload';
import {
  Distribution,
  type RunBenchmarkRequest,
} from '../../src/generated/client/movies/v1/movie_service';
import { LeaderboardProvider } from '../../src/trending/leaderboard.provider';
import { importMovies } from '../../src/movies/import/movie-import';
import { bundledMovies } from '../support/bundled-movies';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

const STUDY = {
  requests: 500,
  keySpace: 100,
  distribution: Distribution.DISTRIBUTION_PARETO_80_20,
};
const TOKEN = 'benchmark-admin-token';

describe('RunBenchmark', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN: TOKEN } });
    await importMovies(t.movies, await bundledMovies());
  });
  afterAll(() => t.close());

  /** Distinct movies the seeded sequence asks for, counted here from the sequence itself. */
  const distinct = (request: Partial<RunBenchmarkRequest>) => {
    const workload = parseWorkload(request);
    return new Set(requestSequence(workload, workload.keySpace)).size;
  };

  it("reproduces the study's workload: cold, 80/20, hit ratio equal to the compulsory-miss bound", async () => {
    const report = await t.api.runBenchmark({ ...STUDY, seed: 42 });

    expect(report).toMatchObject({ totalRequests: 500, notFound: 0, errors: 0, seed: 42 });
    expect(report.hits + report.misses).toBe(500);
    expect(report.misses).toBe(distinct({ ...STUDY, seed: 42 }));
    expect(report.optimalHitRatio).toBe(1 - report.misses / 500);
    expect(report.hitRatio).toBe(report.optimalHitRatio);
    expect(report.hitRatio).toBeGreaterThan(0.7);
    expect(report.overall?.count).toBe(500);
    expect(report.hitLatency?.count).toBe(report.hits);
    expect(report.missLatency?.count).toBe(report.misses);
    // Hits come from memory or Redis, misses from MongoDB too.
    expect(report.speedup).toBeGreaterThan(1);
    expect(report.throughputRps).toBeGreaterThan(0);
    expect(report.uncachedLatency).toBeUndefined();
    expect(report.top).toHaveLength(5);
    expect(report.top.map((e) => e.rank)).toEqual([1, 2, 3, 4, 5]);
    expect([...report.top].sort((a, b) => b.views - a.views)).toEqual(report.top);
    expect(report.top[0].title).not.toBe('');
  });

  it('gives the same request sequence, hits and misses for the same seed', async () => {
    const first = await t.api.runBenchmark({ ...STUDY, seed: 7 });
    const second = await t.api.runBenchmark({ ...STUDY, seed: 7 });
    const other = await t.api.runBenchmark({ ...STUDY, seed: 8 });

    expect([second.hits, second.misses, second.top]).toEqual([first.hits, first.misses, first.top]);
    expect(other.top).not.toEqual(first.top);
  });

  it('picks and reports a seed when given 0, and that seed replays the run', async () => {
    const picked = await t.api.runBenchmark({ ...STUDY, seed: 0 });
    const replay = await t.api.runBenchmark({ ...STUDY, seed: picked.seed });

    expect(picked.seed).toBeGreaterThan(0);
    expect([replay.hits, replay.top]).toEqual([picked.hits, picked.top]);
  });

  it('serves everything from the cache on a warm start', async () => {
    await t.api.runBenchmark({ ...STUDY, seed: 3 });
    const warm = await t.api.runBenchmark({ ...STUDY, seed: 3, warmStart: true });

    expect(warm).toMatchObject({ hits: 500, misses: 0, hitRatio: 1 });
  });

  it.each([
    ['uniform', { distribution: Distribution.DISTRIBUTION_UNIFORM }],
    ['Zipf', { distribution: Distribution.DISTRIBUTION_ZIPF, zipfExponent: 1.2 }],
  ])('runs a %s workload at concurrency 1 with hit ratio at the bound', async (_name, shape) => {
    const report = await t.api.runBenchmark({ ...STUDY, ...shape, seed: 11 });
    expect(report.misses).toBe(distinct({ ...STUDY, ...shape, seed: 11 }));
  });

  it('replays the same sequence straight against MongoDB with compare_uncached', async () => {
    const report = await t.api.runBenchmark({
      ...STUDY,
      seed: 5,
      compareUncached: true,
      concurrency: 4,
    });
    expect(report.uncachedLatency?.count).toBe(500);
    expect(report.uncachedLatency?.meanMs).toBeGreaterThan(0);
  });

  it('does not count its requests as trending views', async () => {
    const leaderboard = t.app.get(LeaderboardProvider);
    await leaderboard.flush();
    await t.redis.del(TRENDING_ALL_KEY);
    const report = await t.api.runBenchmark({ ...STUDY, seed: 9 });
    const outside = report.top[0].movieId;
    await t.api.getMovie({ id: outside }); // a client's read, which counts

    await leaderboard.flush();

    expect(await t.redis.zrange(TRENDING_ALL_KEY, '0', '-1', 'WITHSCORES')).toEqual([outside, '1']);
  });

  it.each([
    [{ requests: 1_000_001 }, 'requests'],
    [{ requests: -1 }, 'requests'],
    [{ concurrency: 257 }, 'concurrency'],
    [{ keySpace: 100_001 }, 'key_space'],
    [{ zipfExponent: Number.NaN }, 'zipf_exponent'],
    [{ zipfExponent: -1 }, 'zipf_exponent'],
    [{ distribution: 42 as Distribution }, 'distribution'],
  ])('answers INVALID_ARGUMENT for %j', async (request, field) => {
    await expect(t.api.runBenchmark(request)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining(field),
    });
  });

  it('requires the admin token', async () => {
    await expect(t.api.runBenchmark(STUDY, new Metadata())).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it('runs one benchmark at a time, and a deadline stops a run', async () => {
    const long = t.api.runBenchmark(
      { requests: 1_000_000, keySpace: 100, concurrency: 8 },
      undefined,
      {
        deadline: Date.now() + 1_500,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    await expect(t.api.runBenchmark(STUDY)).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    await expect(long).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });

    // The server stops the abandoned run: the next one is accepted promptly.
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        await t.api.runBenchmark({ ...STUDY, requests: 10 });
        break;
      } catch (error) {
        if (
          (error as { code?: number }).code !== status.RESOURCE_EXHAUSTED ||
          Date.now() > deadline
        )
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
});

describe('RunBenchmark past its deadline', () => {
  it('frees the one-run slot at once, though calls of the run are still stuck', async () => {
    let stall = true;
    const t = await startTestApp({
      env: { ADMIN_TOKEN: TOKEN, SHUTDOWN_GRACE_MS: '100' },
      // Misses hang for 4 s between MongoDB and Redis: the run's calls are in flight at its deadline.
      hooks: { beforeFill: () => (stall ? sleep(4_000) : Promise.resolve()) },
    });
    try {
      await importMovies(t.movies, await bundledMovies());
      const long = t.api.runBenchmark(
        { requests: 100_000, keySpace: 100, concurrency: 8 },
        undefined,
        {
          deadline: Date.now() + 1_000,
        },
      );
      await expect(long).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
      stall = false;
      await sleep(500);

      const next = await t.api.runBenchmark({ requests: 10, keySpace: 100, warmStart: true });

      expect(next.totalRequests).toBe(10);
    } finally {
      await t.close();
    }
  });
});

describe('RunBenchmark on an empty catalogue', () => {
  it('answers FAILED_PRECONDITION', async () => {
    const t = await startTestApp();
    try {
      await expect(t.api.runBenchmark(STUDY)).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
      });
    } finally {
      await t.close();
    }
  });
});
