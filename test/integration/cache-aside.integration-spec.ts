import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { lastValueFrom, of, throwError } from 'rxjs';
import { MovieNotFoundError, InvalidArgumentError } from '../../src/common/errors';
import {
  CacheStatus,
  CacheTier,
  type GetMovieRequest,
  type GetMovieResponse,
  type Movie,
} from '../../src/generated/nest/movies/v1/movie_service';
import { CacheAsideInterceptor } from '../../src/movies/cache/cache-aside.interceptor';
import { ConsistencyPolicy } from '../../src/movies/consistency/consistency-policy';
import { ConsistencySampler } from '../../src/movies/consistency/consistency-sampler';
import { MovieCache } from '../../src/movies/cache/movie-cache';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { WriteThroughHandler } from '../../src/movies/cache/write-through.handler';
import { MovieReadEvents } from '../../src/movies/movie-read-events';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { absentKey, leaseKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { asSent, expireCopyIn, readCopy } from '../support/cached-copy';
import { expectFreshTtl } from '../support/ttl';
import { sleep, until } from '../support/wait';

/** Nest's own context of a gRPC call: the request, then the call's metadata. */
const rpcContext = (request: Partial<GetMovieRequest>): ExecutionContext => {
  const context = new ExecutionContextHost([{ id: '', title: '', year: 0, ...request }, undefined]);
  context.setType('rpc');
  return context;
};

const notCalled = () => new Error('must not be called');

/**
 * A stand-in for the MongoDB-backed GetMovie handler. With the cache enabled the interceptor
 * never calls it (a miss reads MOVIE_SOURCE, env.source); it runs with CACHE_ENABLED=false only.
 */
function handler(result: Movie | Error = notCalled()): CallHandler<Movie> & { calls: number } {
  const h = {
    calls: 0,
    handle: () => {
      h.calls += 1;
      return result instanceof Error ? throwError(() => result) : of(result);
    },
  };
  return h;
}

const PROVIDERS = [
  CacheAsideInterceptor,
  MovieCache,
  WriteThroughHandler,
  MovieReadEvents,
  ConsistencyPolicy,
  ConsistencySampler,
  // No write is made here.
  { provide: MoviesRepository, useValue: {} },
];

describe(CacheAsideInterceptor.name, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideInterceptor;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, { env: { NEAR_CACHE: 'off' } });
    sut = env.module.get(CacheAsideInterceptor);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    await env.redis.flushdb();
  });

  const run = (
    request: Partial<GetMovieRequest>,
    next: CallHandler<Movie> = handler(),
  ): Promise<GetMovieResponse> => lastValueFrom(sut.intercept(rpcContext(request), next));

  it('on a miss reads MongoDB once (not through the handler), stores the movie and answers MISS', async () => {
    const movie = apiMovieFactory();
    const reads = env.source.onId(movie);
    const next = handler();

    const response = await run({ id: movie.id }, next);

    expect(reads.calls).toBe(1);
    expect(next.calls).toBe(0);
    expect(response).toEqual({
      movie,
      cacheStatus: CacheStatus.CACHE_STATUS_MISS,
      cacheTier: CacheTier.CACHE_TIER_UNSPECIFIED,
    });
    expect((await readCopy(env.redis, movie.id))?.title).toBe(movie.title);
    expectFreshTtl(await env.redis.ttl(movieKey(movie.id)), env.config);
    expect(await env.redis.exists(leaseKey(movie.id))).toBe(0); // released, not left to expire
  });

  it('on a hit answers from Redis without reading MongoDB or calling the handler', async () => {
    const movie = apiMovieFactory({ rating: undefined });
    env.source.onId(movie);
    await run({ id: movie.id });
    const reads = env.source.onId(notCalled());
    const next = handler();

    const response = await run({ id: movie.id }, next);

    expect([reads.calls, next.calls]).toEqual([0, 0]);
    expect(asSent(response)).toEqual({
      movie,
      cacheStatus: CacheStatus.CACHE_STATUS_HIT,
      cacheTier: CacheTier.CACHE_TIER_REDIS,
    });
  });

  it('caches the title mapping so a repeated title lookup is a hit', async () => {
    const movie = apiMovieFactory({ title: 'Mapped' });
    env.source.movies.set(movie.id, movie);
    await run({ title: 'Mapped' });
    env.source.onTitle(notCalled());
    env.source.onId(notCalled());

    const response = await run({ title: 'Mapped' });

    expect(response.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(response.movie?.id).toBe(movie.id);
  });

  it('remembers an unknown movie as absent, so the next lookup does not reach MongoDB', async () => {
    const id = apiMovieFactory().id;
    const first = env.source.onId(new MovieNotFoundError(`id ${id}`));
    await expect(run({ id })).rejects.toBeInstanceOf(MovieNotFoundError);
    const second = env.source.onId(notCalled());
    const next = handler();

    await expect(run({ id }, next)).rejects.toBeInstanceOf(MovieNotFoundError);

    expect([first.calls, second.calls, next.calls]).toEqual([1, 0, 0]);
    expect(await env.redis.exists(movieKey(id))).toBe(0);
    expect(await env.redis.ttl(absentKey(id))).toBe(env.config.negativeTtlSeconds);
  });

  it('remembers an unknown title as absent, so the next lookup does not reach MongoDB', async () => {
    const notFound = env.source.onTitle(null);
    await expect(run({ title: 'Nowhere Film' })).rejects.toBeInstanceOf(MovieNotFoundError);
    const next = env.source.onTitle(notCalled());

    await expect(run({ title: 'Nowhere Film' })).rejects.toBeInstanceOf(MovieNotFoundError);

    expect([notFound.calls, next.calls, env.source.idReads]).toEqual([1, 0, 0]);
  });

  it('caches nothing when the MongoDB read fails otherwise', async () => {
    const id = apiMovieFactory().id;
    env.source.onId(new Error('boom'));

    await expect(run({ id })).rejects.toThrow('boom');
    expect(await env.redis.keys('*movie*')).toEqual([]);
  });

  it('coalesces concurrent misses of one key into one MongoDB read', async () => {
    const movie = apiMovieFactory();
    const reads = env.source.onId(movie);
    const next = handler();

    const responses = await Promise.all(
      Array.from({ length: 50 }, () => run({ id: movie.id }, next)),
    );

    expect(reads.calls).toBe(1);
    expect(next.calls).toBe(0);
    expect(responses.every((r) => r.movie?.id === movie.id)).toBe(true);
  });

  it('spreads fill TTLs by the configured jitter', async () => {
    const movies = Array.from({ length: 60 }, () => apiMovieFactory());
    for (const movie of movies) env.source.movies.set(movie.id, movie);
    for (const movie of movies) await run({ id: movie.id });

    const ttls = await Promise.all(movies.map((m) => env.redis.ttl(movieKey(m.id))));

    ttls.forEach((ttl) => expectFreshTtl(ttl, env.config));
    expect(new Set(ttls).size).toBeGreaterThan(3);
    // Either way of the base TTL (a second of clock aside): jitter that only lengthens fails here.
    const base = env.config.cacheTtlSeconds + env.config.cacheGraceSeconds;
    expect(ttls.some((ttl) => ttl < base - 1)).toBe(true);
    expect(ttls.some((ttl) => ttl > base)).toBe(true);
  });

  it('rejects an invalid request before reaching Redis, MongoDB or the handler', () => {
    const next = handler(apiMovieFactory());
    expect(() => sut.intercept(rpcContext({ id: 'xyz' }), next)).toThrow(InvalidArgumentError);
    expect([next.calls, env.source.idReads, env.source.titleReads]).toEqual([0, 0, 0]);
  });
});

describe(`${CacheAsideInterceptor.name} without Redis`, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideInterceptor;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, { redisUnreachable: true });
    sut = env.module.get(CacheAsideInterceptor);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.source.reset());

  it('serves MongoDB’s answer as BYPASS', async () => {
    const movie = apiMovieFactory();
    const reads = env.source.onId(movie);
    const next = handler();

    const response = await lastValueFrom(sut.intercept(rpcContext({ id: movie.id }), next));

    expect(reads.calls).toBe(1);
    expect(next.calls).toBe(0);
    expect(response).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS });
    expect(env.counters.unflushed().bypasses).toBe(1);
  });
});

describe(`${CacheAsideInterceptor.name} with CACHE_ENABLED=false`, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideInterceptor;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, {
      // Counted answers stay unflushed for the test's length.
      env: { CACHE_ENABLED: 'false', VIEW_FLUSH_MS: '10000' },
    });
    sut = env.module.get(CacheAsideInterceptor);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    await env.redis.flushdb();
  });

  it('serves the handler result as BYPASS, every time, and caches nothing', async () => {
    const movie = apiMovieFactory();
    const next = handler(movie);
    const before = env.counters.unflushed().bypasses;

    const responses = [
      await lastValueFrom(sut.intercept(rpcContext({ id: movie.id }), next)),
      await lastValueFrom(sut.intercept(rpcContext({ id: movie.id }), next)),
    ];

    expect(next.calls).toBe(2);
    expect(env.source.idReads).toBe(0);
    expect(responses).toEqual([
      {
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_BYPASS,
        cacheTier: CacheTier.CACHE_TIER_UNSPECIFIED,
      },
      {
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_BYPASS,
        cacheTier: CacheTier.CACHE_TIER_UNSPECIFIED,
      },
    ]);
    expect(env.counters.unflushed().bypasses - before).toBe(2);
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
  });
});

describe(`${CacheAsideInterceptor.name} with NEGATIVE_TTL_SECONDS=0`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, {
      env: { NEAR_CACHE: 'off', NEGATIVE_TTL_SECONDS: '0' },
    });
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.source.reset());

  it('remembers no absence: every lookup of an unknown movie reaches MongoDB, and Redis stays in use', async () => {
    const sut = env.module.get(CacheAsideInterceptor);
    const run = (request: Partial<GetMovieRequest>) =>
      lastValueFrom(sut.intercept(rpcContext(request), handler()));
    const id = apiMovieFactory().id;
    const lookups: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const reads = env.source.onId(new MovieNotFoundError(`id ${id}`));
      await expect(run({ id })).rejects.toBeInstanceOf(MovieNotFoundError);
      lookups.push(reads.calls);
    }

    expect(lookups).toEqual([1, 1, 1, 1]);
    expect(await env.redis.exists(absentKey(id))).toBe(0);
    // No failed Redis command on the way (a marker with no TTL is an error): no breaker opened.
    const movie = apiMovieFactory();
    env.source.onId(movie);
    expect((await run({ id: movie.id })).cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
    expect(await env.redis.exists(movieKey(movie.id))).toBe(1);
  });
});

describe(`${CacheAsideInterceptor.name} with the near-cache`, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideInterceptor;
  let near: NearCache;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, {
      env: { NEAR_CACHE_MAX_ENTRIES: '50', NEAR_CACHE_MAX_MB: '1', REFRESH_AHEAD: 'off' },
    });
    sut = env.module.get(CacheAsideInterceptor);
    near = env.module.get(NearCache);
    await until(async () => near.serving);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    await env.redis.flushdb();
  });

  const run = (request: Partial<GetMovieRequest>) =>
    lastValueFrom(sut.intercept(rpcContext(request), handler()));

  it('answers a repeated read from process memory, without Redis, until the movie is invalidated', async () => {
    const movie = apiMovieFactory();
    env.source.onId(movie);
    await run({ id: movie.id });
    await env.redis.del(movieKey(movie.id));

    env.source.onId(notCalled());
    const local = await run({ id: movie.id });
    near.invalidate(movie.id);
    env.source.onId(movie);
    const reread = await run({ id: movie.id });

    expect(local).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_LOCAL });
    expect(reread).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
  });

  it('counts its hits, misses and invalidations', async () => {
    const movie = apiMovieFactory();
    const before = near.stats();
    env.source.onId(movie);
    await run({ id: movie.id }); // near-cache miss, then filled
    env.source.onId(notCalled());
    await run({ id: movie.id });
    near.invalidate(movie.id);

    const after = near.stats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.misses - before.misses).toBe(1);
    expect(after.invalidations - before.invalidations).toBe(1);
  });

  it('answers a repeated title lookup from process memory: the title mapping and the movie', async () => {
    const movie = apiMovieFactory({ title: 'Local Title' });
    env.source.movies.set(movie.id, movie);
    await run({ title: 'Local Title' });
    await env.redis.flushdb();
    env.source.onTitle(notCalled());
    env.source.onId(notCalled());

    const local = await run({ title: 'Local Title' });

    expect(local).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_LOCAL });
  });

  it('keeps a copy no longer than its Redis copy stays fresh', async () => {
    const movie = apiMovieFactory();
    env.source.onId(movie);
    await run({ id: movie.id });
    near.invalidate(movie.id);
    await expireCopyIn(env.redis, movie.id, 300);
    env.source.onId(notCalled());
    await run({ id: movie.id }); // Redis hit, kept
    await sleep(400);
    env.source.onId(movie);

    const after = await run({ id: movie.id });

    expect(after.cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
  });

  it('keeps the copy a miss filled, fresh for no longer than its Redis TTL', async () => {
    const movie = apiMovieFactory();
    env.source.onId(movie);
    await run({ id: movie.id });
    const { cacheTtlSeconds, cacheTtlJitter } = env.config;

    const copy = near.movie(movie.id);
    expect(copy?.hit.movie).toEqual(movie);
    expect(copy!.freshUntil - performance.now()).toBeGreaterThan(0);
    expect(copy!.freshUntil - performance.now()).toBeLessThanOrEqual(
      cacheTtlSeconds * 1000 * (1 + cacheTtlJitter),
    );
  });

  it('stays within its entry bound while 2,000 movies stream through', async () => {
    for (let i = 0; i < 2_000; i += 1) {
      const movie = apiMovieFactory();
      env.source.onId(movie);
      await run({ id: movie.id });
    }

    const stats = near.stats();
    expect(stats.entries).toBeLessThanOrEqual(50);
    expect(stats.evictions).toBeGreaterThanOrEqual(2_000 - 50);
  });
});
