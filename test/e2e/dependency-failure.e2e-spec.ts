import { status } from '@grpc/grpc-js';
import { movieKey } from '../../src/redis/cache-keys';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import type { ChildService } from '../../src/stack/child-service';
import { startFerretDb, startRedisServer } from '../../src/stack/embedded-stack';
import { freePort } from '../../src/stack/free-port';
import { movieFactory } from '../factories/movie.factory';
import { checkHealth } from '../support/health-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';
import { tempDir } from '../support/temp-dir';

const dataDir = () => tempDir('movie-cache-failure-');

describe('MongoDB unreachable', () => {
  const cached = movieFactory({ title: 'Cached Before Outage' });
  const uncached = movieFactory({ title: 'Never Cached' });
  const ferretDir = dataDir();
  let ferret: ChildService;
  let t: TestApp;

  beforeAll(async () => {
    ferret = await startFerretDb(ferretDir);
    t = await startTestApp({
      env: { MONGO_TIMEOUT_MS: '500' },
      config: { mongoUri: `mongodb://127.0.0.1:${ferret.port}/outage` },
      movies: [cached, uncached],
    });
    await t.api.getMovie({ id: cached._id.toHexString() });
    await ferret.stop();
  });
  afterAll(async () => {
    await t.close();
    await ferret.stop();
  });

  it('still serves cached movies as hits', async () => {
    const response = await t.api.getMovie({ id: cached._id.toHexString() });
    expect(response.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
  });

  it('answers UNAVAILABLE quickly on a miss', async () => {
    const started = Date.now();
    await expect(t.api.getMovie({ id: uncached._id.toHexString() })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining('MongoDB is unavailable'),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers UNAVAILABLE to UpdateRating and leaves the cached copy as it was', async () => {
    const id = cached._id.toHexString();
    const before = await t.redis.getBuffer(movieKey(id));

    await expect(t.api.updateRating({ id, rating: 1 })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    expect(await t.redis.getBuffer(movieKey(id))).toEqual(before);
  });

  it('reports NOT_SERVING and a degraded status', async () => {
    const stats = await t.api.getCacheStats();
    expect(stats).toMatchObject({ mongoOk: false, redisOk: true, status: 'degraded' });
    expect(await checkHealth(t.address)).toBe('NOT_SERVING');
  });

  it('recovers without a restart when MongoDB returns', async () => {
    ferret = await startFerretDb(ferretDir, ferret.port);

    await until(
      async () =>
        (await t.api.getMovie({ id: uncached._id.toHexString() })).movie?.title === 'Never Cached',
    );
    await until(async () => (await checkHealth(t.address)) === 'SERVING');
  });
});

describe('MongoDB down at startup', () => {
  it('starts without crashing, NOT_SERVING, and serves once MongoDB comes up', async () => {
    const port = await freePort();
    const movie = movieFactory({ title: 'Patience' });
    const t = await startTestApp({
      env: { MONGO_TIMEOUT_MS: '300', HEALTH_INTERVAL_MS: '200' },
      config: { mongoUri: `mongodb://127.0.0.1:${port}/late` },
      awaitMongo: false,
    });
    let ferret: ChildService | undefined;
    try {
      expect(await checkHealth(t.address)).toBe('NOT_SERVING');
      await expect(t.api.getMovie({ id: movie._id.toHexString() })).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });

      ferret = await startFerretDb(dataDir(), port);
      await until(async () => (await checkHealth(t.address)) === 'SERVING');
      await t.movies.insertOne(movie);

      expect((await t.api.getMovie({ id: movie._id.toHexString() })).movie?.title).toBe('Patience');
    } finally {
      await t.close();
      await ferret?.stop();
    }
  });
});

describe('Redis unreachable', () => {
  const movie = movieFactory({ title: 'Served Without Cache', rating: 6.5 });
  let redis: ChildService;
  let t: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer(dataDir());
    t = await startTestApp({
      env: { REDIS_TIMEOUT_MS: '200' },
      config: { redisUrl: `redis://127.0.0.1:${redis.port}` },
      movies: [movie],
    });
    await redis.stop();
  });
  afterAll(() => t.close());

  it('serves reads from MongoDB as BYPASS, without errors', async () => {
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => t.api.getMovie({ id: movie._id.toHexString() })),
    );
    for (const response of responses) {
      expect(response.cacheStatus).toBe(CacheStatus.CACHE_STATUS_BYPASS);
      expect(response.movie?.title).toBe('Served Without Cache');
    }
  });

  it('serves title lookups as BYPASS too', async () => {
    const response = await t.api.getMovie({ title: 'Served Without Cache' });
    expect(response.cacheStatus).toBe(CacheStatus.CACHE_STATUS_BYPASS);
  });

  it('refuses rating updates it cannot fence, UNAVAILABLE and unsaved: MongoDB keeps the old rating', async () => {
    const before = await t.movies.findOne({ _id: movie._id });

    await expect(
      t.api.updateRating({ id: movie._id.toHexString(), rating: 7 }),
    ).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringContaining('the rating was not saved'),
    });
    const after = await t.movies.findOne({ _id: movie._id });
    expect(after?.imdb.rating).toBe(before?.imdb.rating);
    expect(after?.revision).toBe(before?.revision);
  });

  it('reports NOT_SERVING, degraded, and the bypasses counted locally', async () => {
    const stats = await t.api.getCacheStats();
    expect(stats).toMatchObject({ redisOk: false, mongoOk: true, status: 'degraded' });
    expect(stats.bypasses).toBeGreaterThanOrEqual(6);
    expect(await checkHealth(t.address)).toBe('NOT_SERVING');
  });
});

describe('Redis down at startup', () => {
  it('starts without crashing, serves reads as BYPASS, and uses the cache once Redis comes up', async () => {
    const port = await freePort();
    const movie = movieFactory({ title: 'Early Bird' });
    const id = movie._id.toHexString();
    const t = await startTestApp({
      env: { REDIS_TIMEOUT_MS: '200', HEALTH_INTERVAL_MS: '200' },
      config: { redisUrl: `redis://127.0.0.1:${port}` },
      movies: [movie],
      keepRedis: true,
    });
    let redis: ChildService | undefined;
    try {
      expect(await checkHealth(t.address)).toBe('NOT_SERVING');
      expect((await t.api.getMovie({ id })).cacheStatus).toBe(CacheStatus.CACHE_STATUS_BYPASS);

      redis = await startRedisServer(dataDir(), port);
      await until(async () => (await checkHealth(t.address)) === 'SERVING');
      await until(
        async () => (await t.api.getMovie({ id })).cacheStatus === CacheStatus.CACHE_STATUS_HIT,
      );
    } finally {
      await t.close();
      await redis?.stop();
    }
  });
});
