import { status } from '@grpc/grpc-js';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { movieKey } from '../../src/redis/cache-keys';
import type { ChildService } from '../../src/stack/child-service';
import { startFerretDb } from '../../src/stack/embedded-stack';
import { movieFactory } from '../factories/movie.factory';
import { mongoQueryCount } from '../support/app-metrics';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';
import { tempDir } from '../support/temp-dir';

/** Reads `id` every `everyMs` for `forMs`, returning the cache statuses seen. */
async function readFor(t: TestApp, id: string, forMs: number, everyMs = 20): Promise<number[]> {
  const statuses: number[] = [];
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    statuses.push((await t.api.getMovie({ id })).cacheStatus);
    await sleep(everyMs);
  }
  return statuses;
}

describe('refresh-ahead', () => {
  it.each(['off', 'on'])(
    'a hot key read across its expiry never makes a caller wait on MongoDB, which is read once (near-cache %s)',
    async (nearCache) => {
      const movie = movieFactory({ title: 'Always Warm' });
      const id = movie._id.toHexString();
      const t = await startTestApp({
        movies: [movie],
        env: {
          CACHE_TTL_SECONDS: '2',
          CACHE_TTL_JITTER: '0',
          REFRESH_AHEAD: 'fraction',
          REFRESH_AHEAD_FRACTION: '0.25',
          NEAR_CACHE: nearCache,
        },
      });
      try {
        expect((await t.api.getMovie({ id })).cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
        const reads = await mongoQueryCount(t.app, 'findById');

        // Logically expires at 2 s; refreshed once under 0.5 s remain, next due at 3 s.
        const statuses = await readFor(t, id, 2_600);

        expect(statuses.filter((s) => s !== CacheStatus.CACHE_STATUS_HIT)).toEqual([]);
        expect(statuses.length).toBeGreaterThan(20);
        expect((await mongoQueryCount(t.app, 'findById')) - reads).toBe(1);
      } finally {
        await t.close();
      }
    },
  );
});

describe('grace: MongoDB stopped', () => {
  const movie = movieFactory({ title: 'Graced', rating: 5 });
  const fencedMovie = movieFactory({ title: 'Graced But Overwritten', rating: 5 });
  const id = movie._id.toHexString();
  let ferret: ChildService;
  let t: TestApp;

  beforeAll(async () => {
    ferret = await startFerretDb(tempDir('movie-cache-grace-'));
    t = await startTestApp({
      env: {
        CACHE_TTL_SECONDS: '1',
        CACHE_TTL_JITTER: '0',
        CACHE_GRACE_SECONDS: '8',
        MONGO_TIMEOUT_MS: '500',
        REFRESH_AHEAD: 'off',
        NEAR_CACHE: 'off',
      },
      config: { mongoUri: `mongodb://127.0.0.1:${ferret.port}/grace` },
      movies: [movie, fencedMovie],
    });
    const filledAt = Date.now();
    await t.api.getMovie({ id });
    // This one is written: its copy is dropped before MongoDB has the write, and the write's copy
    // installed after.
    await t.api.getMovie({ id: fencedMovie._id.toHexString() });
    await t.api.updateRating({ id: fencedMovie._id.toHexString(), rating: 6 });
    await ferret.stop();
    await sleep(Math.max(0, filledAt + 1_200 - Date.now())); // past the TTL, within grace
  });
  afterAll(async () => {
    await t.close();
    await ferret.stop();
  });

  it('serves an expired copy within grace as STALE', async () => {
    const response = await t.api.getMovie({ id });

    expect(response).toMatchObject({
      cacheStatus: CacheStatus.CACHE_STATUS_STALE,
      movie: { title: 'Graced', rating: 5 },
    });
    expect((await t.api.getCacheStats()).stale).toBeGreaterThanOrEqual(1);
  });

  it('never serves a graced copy older than a write: the graced copy is the write', async () => {
    expect(await t.api.getMovie({ id: fencedMovie._id.toHexString() })).toMatchObject({
      cacheStatus: CacheStatus.CACHE_STATUS_STALE,
      movie: { rating: 6, revision: 1 },
    });
  });

  it('answers UNAVAILABLE once the copy is past its grace too', async () => {
    await until(async () => (await t.redis.exists(movieKey(id))) === 0, 15_000);
    await expect(t.api.getMovie({ id })).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });
});

describe('grace: a write wins', () => {
  it('a write during grace is never hidden by the graced copy', async () => {
    const movie = movieFactory({ title: 'Rewritten In Grace', rating: 5 });
    const id = movie._id.toHexString();
    const t = await startTestApp({
      movies: [movie],
      env: { CACHE_TTL_SECONDS: '1', CACHE_TTL_JITTER: '0', REFRESH_AHEAD: 'off' },
    });
    try {
      await t.api.getMovie({ id });
      await sleep(1_200);

      await t.api.updateRating({ id, rating: 9 });

      expect(await t.api.getMovie({ id })).toMatchObject({
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        movie: { rating: 9, revision: 1 },
      });
    } finally {
      await t.close();
    }
  });
});
