import type { CallHandler, ExecutionContext } from '@nestjs/common';
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
import { CacheAsideReader } from '../../src/movies/cache/cache-aside.reader';
import { CachedCopies } from '../../src/movies/cache/cached-copies';
import { NearCache } from '../../src/movies/cache/near-cache';
import { MovieReadEvents } from '../../src/movies/movie-read-events';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { absentKey, leaseKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expireCopyIn } from '../support/expiry';
import { expectFreshTtl } from '../support/ttl';
import { sleep, until } from '../support/wait';

const rpcContext = (request: Partial<GetMovieRequest>) =>
  ({
    switchToRpc: () => ({
      getData: () => ({ id: '', title: '', year: 0, ...request }),
      getContext: () => undefined,
    }),
  }) as unknown as ExecutionContext;

/** A stand-in for the MongoDB-backed handler: the interceptor is what is under test. */
function handler(result: Movie | Error): CallHandler<Movie> & { calls: number } {
  const h = {
    calls: 0,
    handle: () => {
      h.calls += 1;
      if (result instanceof Error) return throwError(() => result);
      stored.set(result.id, result);
      return of(result);
    },
  };
  return h;
}

/** MongoDB by id, for title lookups (resolved to an id, then read by id): movies the handlers returned. */
const stored = new Map<string, Movie>();
const repositoryDouble = { findById: (id: string) => Promise.resolve(stored.get(id) ?? null) };

const PROVIDERS = [
  CacheAsideInterceptor,
  CacheAsideReader,
  CachedCopies,
  MovieReadEvents,
  { provide: MoviesRepository, useValue: repositoryDouble },
];

describe(CacheAsideInterceptor.name, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideInterceptor;

  beforeAll(async () => {
    env = await cacheTestingModule(PROVIDERS, { env: { NEAR_CACHE: 'off' } });
    sut = env.module.get(CacheAsideInterceptor);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const run = (
    request: Partial<GetMovieRequest>,
    next: CallHandler<Movie>,
  ): Promise<GetMovieResponse> => lastValueFrom(sut.intercept(rpcContext(request), next));

  it('on a miss calls the handler once, stores the movie and answers MISS', async () => {
    const movie = apiMovieFactory();
    const next = handler(movie);

    const response = await run({ id: movie.id }, next);

    expect(next.calls).toBe(1);
    expect(response).toEqual({
      movie,
      cacheStatus: CacheStatus.CACHE_STATUS_MISS,
      cacheTier: CacheTier.CACHE_TIER_UNSPECIFIED,
    });
    expect(await env.redis.hget(movieKey(movie.id), 'title')).toBe(movie.title);
    expectFreshTtl(await env.redis.ttl(movieKey(movie.id)), env.config);
    expect(await env.redis.exists(leaseKey(movie.id))).toBe(0); // released, not left to expire
  });

  it('on a hit answers from Redis without calling the handler', async () => {
    const movie = apiMovieFactory({ rating: undefined });
    await run({ id: movie.id }, handler(movie));
    const next = handler(new Error('must not be called'));

    const response = await run({ id: movie.id }, next);

    expect(next.calls).toBe(0);
    expect(response).toEqual({
      movie,
      cacheStatus: CacheStatus.CACHE_STATUS_HIT,
      cacheTier: CacheTier.CACHE_TIER_REDIS,
    });
  });

  it('caches the title mapping so a repeated title lookup is a hit', async () => {
    const movie = apiMovieFactory({ title: 'Mapped' });
    await run({ title: 'Mapped' }, handler(movie));

    const response = await run({ title: 'Mapped' }, handler(new Error('must not be called')));

    expect(response.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(response.movie?.id).toBe(movie.id);
  });

  it('remembers an unknown movie as absent, so the next lookup does not reach the handler', async () => {
    const id = apiMovieFactory().id;

    await expect(run({ id }, handler(new MovieNotFoundError(`id ${id}`)))).rejects.toBeInstanceOf(
      MovieNotFoundError,
    );
    const next = handler(new Error('must not be called'));
    await expect(run({ id }, next)).rejects.toBeInstanceOf(MovieNotFoundError);

    expect(next.calls).toBe(0);
    expect(await env.redis.exists(movieKey(id))).toBe(0);
    expect(await env.redis.ttl(absentKey(id))).toBe(env.config.negativeTtlSeconds);
  });

  it('remembers an unknown title as absent, so the next lookup does not reach the handler', async () => {
    const notFound = handler(new MovieNotFoundError('title Nowhere Film'));
    await expect(run({ title: 'Nowhere Film' }, notFound)).rejects.toBeInstanceOf(
      MovieNotFoundError,
    );
    const next = handler(new Error('must not be called'));
    await expect(run({ title: 'Nowhere Film' }, next)).rejects.toBeInstanceOf(MovieNotFoundError);

    expect([notFound.calls, next.calls]).toEqual([1, 0]);
  });

  it('caches nothing when the handler fails otherwise', async () => {
    const id = apiMovieFactory().id;

    await expect(run({ id }, handler(new Error('boom')))).rejects.toThrow('boom');
    expect(await env.redis.keys('*movie*')).toEqual([]);
  });

  it('coalesces concurrent misses of one key into one handler call', async () => {
    const movie = apiMovieFactory();
    const next = handler(movie);

    const responses = await Promise.all(
      Array.from({ length: 50 }, () => run({ id: movie.id }, next)),
    );

    expect(next.calls).toBe(1);
    expect(responses.every((r) => r.movie?.id === movie.id)).toBe(true);
  });

  it('spreads fill TTLs by the configured jitter', async () => {
    const movies = Array.from({ length: 60 }, () => apiMovieFactory());
    for (const movie of movies) await run({ id: movie.id }, handler(movie));

    const ttls = await Promise.all(movies.map((m) => env.redis.ttl(movieKey(m.id))));

    ttls.forEach((ttl) => expectFreshTtl(ttl, env.config));
    expect(new Set(ttls).size).toBeGreaterThan(3);
    // Either way of the base TTL (a second of clock aside): jitter that only lengthens fails here.
    const base = env.config.cacheTtlSeconds + env.config.cacheGraceSeconds;
    expect(ttls.some((ttl) => ttl < base - 1)).toBe(true);
    expect(ttls.some((ttl) => ttl > base)).toBe(true);
  });

  it('rejects an invalid request before reaching Redis or the handler', () => {
    const next = handler(apiMovieFactory());
    expect(() => sut.intercept(rpcContext({ id: 'xyz' }), next)).toThrow(InvalidArgumentError);
    expect(next.calls).toBe(0);
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

  it('serves the handler result as BYPASS', async () => {
    const movie = apiMovieFactory();
    const next = handler(movie);

    const response = await lastValueFrom(sut.intercept(rpcContext({ id: movie.id }), next));

    expect(next.calls).toBe(1);
    expect(response).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS });
    expect(env.counters.local().bypasses).toBe(1);
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

  it('remembers no absence: every lookup of an unknown movie reaches the handler, and Redis stays in use', async () => {
    const sut = env.module.get(CacheAsideInterceptor);
    const run = (request: Partial<GetMovieRequest>, next: CallHandler<Movie>) =>
      lastValueFrom(sut.intercept(rpcContext(request), next));
    const id = apiMovieFactory().id;
    const lookups = [1, 2, 3, 4].map(() => handler(new MovieNotFoundError(`id ${id}`)));
    for (const next of lookups)
      await expect(run({ id }, next)).rejects.toBeInstanceOf(MovieNotFoundError);

    expect(lookups.map((next) => next.calls)).toEqual([1, 1, 1, 1]);
    expect(await env.redis.exists(absentKey(id))).toBe(0);
    // No failed Redis command on the way (a marker with no TTL is an error): no breaker opened.
    const movie = apiMovieFactory();
    expect((await run({ id: movie.id }, handler(movie))).cacheStatus).toBe(
      CacheStatus.CACHE_STATUS_MISS,
    );
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
  beforeEach(() => env.redis.flushdb());

  const run = (request: Partial<GetMovieRequest>, next: CallHandler<Movie>) =>
    lastValueFrom(sut.intercept(rpcContext(request), next));

  it('answers a repeated read from process memory, without Redis, until the movie is invalidated', async () => {
    const movie = apiMovieFactory();
    await run({ id: movie.id }, handler(movie));
    await env.redis.del(movieKey(movie.id));

    const local = await run({ id: movie.id }, handler(new Error('must not be called')));
    near.invalidate(movie.id);
    const reread = await run({ id: movie.id }, handler(movie));

    expect(local).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_LOCAL });
    expect(reread).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
  });

  it('counts its hits, misses and invalidations', async () => {
    const movie = apiMovieFactory();
    const before = near.stats();
    await run({ id: movie.id }, handler(movie)); // near-cache miss, then filled
    await run({ id: movie.id }, handler(new Error('must not be called')));
    near.invalidate(movie.id);

    const after = near.stats();
    expect(after.hits - before.hits).toBe(1);
    expect(after.misses - before.misses).toBe(1);
    expect(after.invalidations - before.invalidations).toBe(1);
  });

  it('answers a repeated title lookup from process memory: the title mapping and the movie', async () => {
    const movie = apiMovieFactory({ title: 'Local Title' });
    await run({ title: 'Local Title' }, handler(movie));
    await env.redis.flushdb();

    const local = await run({ title: 'Local Title' }, handler(new Error('must not be called')));

    expect(local).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_LOCAL });
  });

  it('keeps a copy no longer than its Redis copy stays fresh', async () => {
    const movie = apiMovieFactory();
    await run({ id: movie.id }, handler(movie));
    near.invalidate(movie.id);
    await expireCopyIn(env.redis, movie.id, 300);
    await run({ id: movie.id }, handler(new Error('must not be called'))); // Redis hit, kept
    await sleep(400);

    const after = await run({ id: movie.id }, handler(movie));

    expect(after.cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
  });

  it('keeps the copy a miss filled, fresh for no longer than its Redis TTL', async () => {
    const movie = apiMovieFactory();
    await run({ id: movie.id }, handler(movie));
    const { cacheTtlSeconds, cacheTtlJitter } = env.config;

    const copy = near.movie(movie.id);
    expect(copy?.movie).toEqual(movie);
    expect(copy!.freshUntil - performance.now()).toBeGreaterThan(0);
    expect(copy!.freshUntil - performance.now()).toBeLessThanOrEqual(
      cacheTtlSeconds * 1000 * (1 + cacheTtlJitter),
    );
  });

  it('stays within its entry bound while 2,000 movies stream through', async () => {
    for (let i = 0; i < 2_000; i += 1) {
      const movie = apiMovieFactory();
      await run({ id: movie.id }, handler(movie));
    }

    const stats = near.stats();
    expect(stats.entries).toBeLessThanOrEqual(50);
    expect(stats.evictions).toBeGreaterThanOrEqual(2_000 - 50);
  });
});
