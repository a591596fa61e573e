import { status } from '@grpc/grpc-js';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { MetricsService } from '../../src/metrics/metrics.service';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { movieFactory } from '../factories/movie.factory';
import { checkHealth } from '../support/health-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';
import { tcpRelay } from '../support/tcp-relay';
import { tempDir } from '../support/temp-dir';
import { readCopy } from '../support/cached-copy';

/** Redis commands this instance sent that failed (timed out, refused). */
async function redisErrors(t: TestApp): Promise<number> {
  const { values } = await t.app.get(MetricsService).redisErrors.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

describe('Redis goes away mid-run (frozen with SIGSTOP, then resumed with its data)', () => {
  const movies = Array.from({ length: 3 }, (_, i) =>
    movieFactory({ title: `Outage ${i}`, rating: 5 }),
  );
  const ids = movies.map((m) => m._id.toHexString());
  let redis: ChildService;
  let t: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer(tempDir('movie-cache-outage-'));
    t = await startTestApp({
      env: {
        REDIS_TIMEOUT_MS: '200',
        REDIS_BREAKER_THRESHOLD: '3',
        REDIS_BREAKER_COOLDOWN_MS: '500',
        HEALTH_INTERVAL_MS: '200',
        CACHE_TTL_SECONDS: '600',
        // The Redis tier's behaviour; the near-cache's own outage behaviour is in near-cache.e2e-spec.
        NEAR_CACHE: 'off',
      },
      config: { redisUrl: `redis://127.0.0.1:${redis.port}` },
      movies,
    });
    for (const id of ids) await t.api.getMovie({ id });
  });
  afterAll(async () => {
    redis.signal('SIGCONT');
    await t.close();
    await redis.stop();
  });

  it('keeps reads working, stops paying a timeout per read, refuses writes it cannot fence (nothing saved), and serves the state of MongoDB after recovery', async () => {
    redis.signal('SIGSTOP');

    // Reads: served from MongoDB, no errors.
    const during = [];
    for (let i = 0; i < 12; i += 1) during.push(await t.api.getMovie({ id: ids[i % ids.length] }));
    expect(during.every((r) => r.cacheStatus === CacheStatus.CACHE_STATUS_BYPASS)).toBe(true);

    // The breaker is open: reads no longer try Redis (each try would time out and count an error;
    // at most one half-open probe may slip in).
    const errorsBefore = await redisErrors(t);
    for (let i = 0; i < 6; i += 1) await t.api.getMovie({ id: ids[i % ids.length] });
    expect((await redisErrors(t)) - errorsBefore).toBeLessThanOrEqual(1);

    // Writes: refused before MongoDB, whose copies (rating 5) the frozen cache still holds.
    const writes = await Promise.allSettled(
      ids.map((id, i) => t.api.updateRating({ id, rating: 7 + i })),
    );
    expect(writes.map((w) => w.status === 'rejected' && w.reason.code)).toEqual(
      ids.map(() => status.UNAVAILABLE),
    );
    for (const movie of movies)
      expect((await t.movies.findOne({ _id: movie._id }))?.imdb.rating).toBe(5);

    await until(async () => (await checkHealth(t.address)) === 'NOT_SERVING');
    expect(await t.api.getCacheStats()).toMatchObject({ redisOk: false, status: 'degraded' });

    redis.signal('SIGCONT');
    await until(async () => (await checkHealth(t.address)) === 'SERVING');

    // Every read after recovery matches MongoDB, and so do writes. Attempts refused during the
    // freeze that Redis ran once resumed hold their fences pending for a window: then the cache
    // serves the new copies again.
    await Promise.all(ids.map((id, i) => t.api.updateRating({ id, rating: 7 + i })));
    const statuses: CacheStatus[] = [];
    await until(async () => {
      statuses.length = 0;
      for (const [i, id] of ids.entries()) {
        const { movie, cacheStatus } = await t.api.getMovie({ id });
        const stored = await t.movies.findOne({ _id: movies[i]._id });
        expect(movie).toMatchObject({ rating: stored!.imdb.rating, revision: stored!.revision });
        statuses.push(cacheStatus);
      }
      return statuses.every((s) => s === CacheStatus.CACHE_STATUS_HIT);
    }, 15_000);
    expect((await readCopy(t.redis, ids[0]))?.rating).toBe(7);
  });
});

describe('redis-server stopped mid-run and restarted', () => {
  it('keeps reading, refuses writes unsaved while it is down, and every read after the restart matches MongoDB', async () => {
    const dir = tempDir('movie-cache-restart-');
    const movies = Array.from({ length: 3 }, (_, i) =>
      movieFactory({ title: `Restart ${i}`, rating: 4 }),
    );
    let redis = await startRedisServer(dir);
    const t = await startTestApp({
      env: { REDIS_TIMEOUT_MS: '200', HEALTH_INTERVAL_MS: '200' },
      config: { redisUrl: `redis://127.0.0.1:${redis.port}` },
      movies,
    });
    try {
      for (const m of movies) await t.api.getMovie({ id: m._id.toHexString() });
      await redis.stop();

      for (const [i, m] of movies.entries()) {
        const id = m._id.toHexString();
        expect((await t.api.getMovie({ id })).cacheStatus).toBe(CacheStatus.CACHE_STATUS_BYPASS);
        await expect(t.api.updateRating({ id, rating: 8 + i / 10 })).rejects.toMatchObject({
          code: status.UNAVAILABLE,
        });
      }

      redis = await startRedisServer(dir, redis.port);
      await until(async () => (await checkHealth(t.address)) === 'SERVING');
      for (const [i, m] of movies.entries())
        await t.api.updateRating({ id: m._id.toHexString(), rating: 8 + i / 10 });
      for (let round = 0; round < 2; round += 1) {
        for (const m of movies) {
          const { movie } = await t.api.getMovie({ id: m._id.toHexString() });
          const stored = await t.movies.findOne({ _id: m._id });
          expect(movie).toMatchObject({ rating: stored!.imdb.rating, revision: stored!.revision });
        }
      }
    } finally {
      await t.close();
      await redis.stop();
    }
  });
});

describe('Redis frozen under concurrent readers and writers', () => {
  it('no reader gets an error, a writer only UNAVAILABLE (unsaved), and after recovery every read matches MongoDB', async () => {
    const movies = Array.from({ length: 4 }, (_, i) => movieFactory({ title: `Busy ${i}` }));
    const ids = movies.map((m) => m._id.toHexString());
    const redis = await startRedisServer(tempDir('movie-cache-busy-'));
    const t = await startTestApp({
      env: { REDIS_TIMEOUT_MS: '200', HEALTH_INTERVAL_MS: '200', NEAR_CACHE_LEASE_MS: '300' },
      config: { redisUrl: `redis://127.0.0.1:${redis.port}` },
      movies,
    });
    const errors: string[] = [];
    let running = true;
    const load = (write: boolean) => async () => {
      for (let i = 0; running; i += 1) {
        const id = ids[i % ids.length];
        await (
          write ? t.api.updateRating({ id, rating: (i % 100) / 10 }) : t.api.getMovie({ id })
        ).catch((error: Error) => {
          if (!(write && /rating was not saved/.test(error.message))) errors.push(error.message);
        });
      }
    };
    try {
      const traffic = Promise.all([...Array.from({ length: 6 }, load(false)), load(true)()]);
      await sleep(500);
      redis.signal('SIGSTOP');
      await sleep(2_000);
      redis.signal('SIGCONT');
      await until(async () => (await checkHealth(t.address)) === 'SERVING');
      await sleep(500);
      running = false;
      await traffic;

      expect(errors).toEqual([]);
      for (const [i, id] of ids.entries()) {
        const { movie } = await t.api.getMovie({ id });
        const stored = await t.movies.findOne({ _id: movies[i]._id });
        expect(movie).toMatchObject({ rating: stored!.imdb.rating, revision: stored!.revision });
      }
    } finally {
      redis.signal('SIGCONT');
      await t.close();
      await redis.stop();
    }
  });
});

describe('only the writer loses Redis (its path to Redis frozen, the other instance still reaches it)', () => {
  it('its UpdateRating is refused unsaved, and the other instance, serving the old copy, agrees with MongoDB', async () => {
    const movie = movieFactory({ title: 'Cut Off Writer', rating: 5 });
    const id = movie._id.toHexString();
    const redis = await startRedisServer(tempDir('movie-cache-writer-cut-'));
    const relay = await tcpRelay({ host: '127.0.0.1', port: redis.port });
    await relay.open();
    const env = { REDIS_TIMEOUT_MS: '200', HEALTH_INTERVAL_MS: '200' };
    const reader = await startTestApp({
      env,
      config: { redisUrl: `redis://127.0.0.1:${redis.port}` },
      movies: [movie],
    });
    const writer = await startTestApp({
      env,
      config: { redisUrl: `redis://127.0.0.1:${relay.port}`, mongoUri: reader.config.mongoUri },
      keepRedis: true,
    });
    try {
      await reader.api.getMovie({ id });
      await reader.api.getMovie({ id });
      relay.freeze();

      await expect(writer.api.updateRating({ id, rating: 9 })).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });

      const stored = await reader.movies.findOne({ _id: movie._id });
      const { movie: read } = await reader.api.getMovie({ id });
      expect(stored?.imdb.rating).toBe(5);
      expect(read).toMatchObject({ rating: 5, revision: stored?.revision ?? 0 });
    } finally {
      await writer.close().catch(() => undefined);
      await reader.close();
      await relay.close();
      await redis.stop();
    }
  });
});
