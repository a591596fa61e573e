import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import {
  CacheStatus,
  CacheTier,
  type Movie,
} from '../../src/generated/nest/movies/v1/movie_service';
import { lookupKeys } from '../../src/movies/cache/lookup-keys';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { MovieCache } from '../../src/movies/cache/movie-cache';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { WriteThroughHandler } from '../../src/movies/cache/write-through.handler';
import type { MovieLookup } from '../../src/movies/movie-lookup';
import { MoviesRepository } from '../../src/movies/movies.repository';
import {
  STATS_HITS_KEY,
  SYSTEM_STATUS_KEY,
  TTL_SETTING_KEY,
  movieKey,
} from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { asSent, expireCopyIn, readCopy } from '../support/cached-copy';
import { sleep, until } from '../support/wait';

async function movieCacheModule(env: Record<string, string>) {
  const testing = await cacheTestingModule(
    // No write is made here.
    [MovieCache, WriteThroughHandler, { provide: MoviesRepository, useValue: {} }],
    { env: { REFRESH_AHEAD: 'off', ...env } },
  );
  await until(async () => testing.module.get(NearCache).serving);
  return testing;
}

const byId = (movie: Movie): MovieLookup => ({ kind: 'id', id: movie.id });
const mongoDown = () => new DependencyUnavailableError('MongoDB');
const notCalled = () => new Error('must not be called');

describe(MovieCache.name, () => {
  let env: CacheTestingModule;
  let sut: MovieCache;

  beforeAll(async () => {
    env = await movieCacheModule({ CACHE_SOFT_TIMEOUT_MS: '100' });
    sut = env.module.get(MovieCache);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    await env.redis.flushdb();
  });

  /** A copy past its TTL, kept for grace (and not in the near-cache). */
  async function graced(movie: Movie): Promise<void> {
    await env.cacheCopy(movie);
    await expireCopyIn(env.redis, movie.id, -1_000);
  }

  it.each([
    ['a failure of its own', new Error('query failed')],
    ['MongoDB unreachable', mongoDown()],
  ])('passes on %s from the MongoDB read of a miss, after one read', async (_, error) => {
    const reads = env.source.onId(error);

    await expect(sut.read(byId(apiMovieFactory()))).rejects.toBe(error);
    expect(reads.calls).toBe(1);
  });

  describe('a copy past its TTL', () => {
    it('is replaced by MongoDB’s answer within CACHE_SOFT_TIMEOUT_MS, a MISS', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await graced(movie);
      const now = { ...movie, rating: 8 };
      env.source.onId(now);

      const result = await sut.read(byId(movie));

      expect(result).toMatchObject({ movie: now, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
    });

    it('is served as STALE while MongoDB is unreachable', async () => {
      const movie = apiMovieFactory();
      await graced(movie);
      env.source.onId(mongoDown());

      const result = await sut.read(byId(movie));

      expect(asSent(result)).toEqual({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_STALE,
        cacheTier: CacheTier.CACHE_TIER_REDIS,
      });
    });

    it('is served as STALE when MongoDB answers later than CACHE_SOFT_TIMEOUT_MS, and refilled when it does', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await graced(movie);
      const reads = env.source.onId(() => sleep(600).then(() => ({ ...movie, rating: 8 })));

      const result = await sut.read(byId(movie));

      expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_STALE });
      await until(async () => (await readCopy(env.redis, movie.id))?.rating === 8);
      expect(reads.calls).toBe(1);
    });

    it('is not served when the MongoDB read fails otherwise', async () => {
      const movie = apiMovieFactory();
      await graced(movie);
      env.source.onId(new Error('query failed'));

      await expect(sut.read(byId(movie))).rejects.toThrow('query failed');
    });

    it('is not served once a write began, even with MongoDB unreachable: the write dropped it', async () => {
      const movie = apiMovieFactory({ revision: 1 });
      await graced(movie);
      await env.module.get(WriteFence).beginWrite(movie.id, 'a-write');
      env.source.onId(mongoDown());

      await expect(sut.read(byId(movie))).rejects.toBeInstanceOf(DependencyUnavailableError);
    });
  });

  describe('a title', () => {
    const title = (name: string): MovieLookup => ({ kind: 'title', title: name, year: 1999 });
    const local = (lookup: MovieLookup) => sut.nearHit(lookup, lookupKeys(lookup));

    it('another instance is resolving: waits for its answer, no title query', async () => {
      const movie = apiMovieFactory({ title: 'Resolved Elsewhere', year: 1999 });
      env.source.movies.set(movie.id, movie);
      const keys = lookupKeys(title(movie.title));
      await env.redis.set(keys.lease, 'other', 'PX', 5_000);
      const queries = env.source.onTitle(movie);
      setTimeout(() => void env.module.get<Cache>(CACHE_MANAGER).set(keys.title, movie.id), 100);

      const result = await sut.read(title(movie.title));

      expect(result.movie).toEqual(movie);
      expect(queries.calls).toBe(0);
    });

    it('remembered absent: NOT_FOUND again without any MongoDB read, by title or by id', async () => {
      const first = env.source.onTitle(new MovieNotFoundError('title Never Made'));
      await expect(sut.read(title('Never Made'))).rejects.toBeInstanceOf(MovieNotFoundError);
      const second = env.source.onTitle(notCalled());

      await expect(sut.read(title('Never Made'))).rejects.toBeInstanceOf(MovieNotFoundError);

      expect([first.calls, second.calls, env.source.idReads]).toEqual([1, 0, 0]);
    });

    it('a miss takes four round trips to name the id: the title map, begin-miss (which reports a remembered absence), the entry, and one script that places it and ends the miss', async () => {
      // A title miss before: every script is loaded (no EVALSHA falls back to EVAL below).
      const before = apiMovieFactory({ title: 'Trips Before', year: 1999 });
      env.source.movies.set(before.id, before);
      env.source.onTitle(before);
      await sut.read(title(before.title));
      const movie = apiMovieFactory({ title: 'Counted Trips', year: 1999 });
      env.source.movies.set(movie.id, movie);
      env.source.onTitle(movie);
      const { tag } = lookupKeys(title(movie.title));
      const monitor = await env.redis.monitor();
      const sent: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === 'lua') return;
        const command = String(args[0]).toLowerCase();
        // Only this read's commands: the module's timers (lease pings, counters) run beside it.
        if (!args.slice(1).some((arg) => arg.includes(tag) || arg.includes(movie.id))) return;
        sent.push(command.startsWith('eval') ? 'script' : command);
      });
      try {
        await sut.read(title(movie.title));
        await sleep(50); // MONITOR's last lines
      } finally {
        monitor.disconnect();
      }

      // Then the id's read: its copy's GET, and on a miss its own begin-miss and fill.
      expect(sent.slice(0, 5)).toEqual(['get', 'script', 'set', 'script', 'get']);
    });

    it('naming a movie that is gone by the time it is read by id: NOT_FOUND', async () => {
      const gone = apiMovieFactory({ title: 'Gone Since', year: 1999 });
      env.source.onTitle(gone); // and by id it is not there

      await expect(sut.read(title(gone.title))).rejects.toBeInstanceOf(MovieNotFoundError);
      expect(env.source.idReads).toBe(1);
    });

    it('is a MISS when its query ran, even if the movie was cached by id', async () => {
      const movie = apiMovieFactory({ title: 'Cached By Id', year: 1999 });
      env.source.movies.set(movie.id, movie);
      await sut.read(byId(movie));

      const result = await sut.read(title(movie.title));

      expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
      expect(env.source.titleReads).toBe(1);
    });

    it('resolved by the title map another instance filled: the title is kept here, its next read answered locally', async () => {
      const movie = apiMovieFactory({ title: 'Mapped Elsewhere', year: 1999 });
      await env.cacheCopy(movie);
      await env.module
        .get<Cache>(CACHE_MANAGER)
        .set(lookupKeys(title(movie.title)).title, movie.id);

      const result = await sut.read(title(movie.title));

      expect(result).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_REDIS });
      expect(local(title(movie.title))).toMatchObject({
        movie,
        cacheTier: CacheTier.CACHE_TIER_LOCAL,
      });
      expect(env.source.titleReads + env.source.idReads).toBe(0);
    });

    it('whose id’s copy is in the near-cache is answered from it, though the title is not yet', async () => {
      const movie = apiMovieFactory({ title: 'Copy Near', year: 1999 });
      await env.cacheCopy(movie);
      await sut.read(byId(movie));
      await env.module
        .get<Cache>(CACHE_MANAGER)
        .set(lookupKeys(title(movie.title)).title, movie.id);
      expect(local(title(movie.title))).toBeNull();

      const result = await sut.read(title(movie.title));

      expect(result).toEqual({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        cacheTier: CacheTier.CACHE_TIER_LOCAL,
      });
    });

    it('once read, is answered from the near-cache synchronously, as an id is', async () => {
      const movie = apiMovieFactory({ title: 'Near Title', year: 1999 });
      env.source.movies.set(movie.id, movie);
      await sut.read(title(movie.title));

      expect(local(title(movie.title))).toEqual({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        cacheTier: CacheTier.CACHE_TIER_LOCAL,
      });
      expect(local(title('Never Read'))).toBeNull();
      expect(local(byId(apiMovieFactory()))).toBeNull();
    });
  });

  describe('upkeep', () => {
    it('evicts ids from Redis and from the near-cache', async () => {
      const movie = apiMovieFactory();
      await env.cacheCopy(movie);
      await sut.read(byId(movie));
      expect(sut.nearHit(byId(movie), lookupKeys(byId(movie)))).not.toBeNull();

      await sut.evict([movie.id]);

      expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
      expect(sut.nearHit(byId(movie), lookupKeys(byId(movie)))).toBeNull();
    });

    it('reports every instance’s counters and the TTL one published', async () => {
      await env.redis.set(STATS_HITS_KEY, '10');
      await sut.publishState('degraded');
      await env.redis.set(TTL_SETTING_KEY, '77'); // as another instance with another TTL left it
      const counters = (hits: number) => ({ hits, misses: 0, bypasses: 0, stale: 0 });

      sut.count(CacheStatus.CACHE_STATUS_HIT);
      const alone = sut.stats(false); // before any flush: this instance's count is still its own
      const all = await sut.stats(true);

      expect(await alone).toEqual({
        counters: counters(1),
        ttlSeconds: env.config.cacheTtlSeconds,
        near: expect.objectContaining({ enabled: true, serving: true }),
      });
      expect(all).toEqual({
        counters: { ...counters(11), ttlSeconds: 77 },
        ttlSeconds: 77,
        near: expect.objectContaining({ enabled: true }),
      });
      expect(await env.redis.get(SYSTEM_STATUS_KEY)).toBe('degraded');
    });

    it('reports the totals Redis last gave plus what was counted since, when Redis cannot be read', async () => {
      await env.counters.flush();
      const { misses } = await env.counters.read();
      await env.redis.set(STATS_HITS_KEY, '40'); // other instances' hits
      sut.count(CacheStatus.CACHE_STATUS_HIT);
      await env.counters.flush(); // INCRBY answers 41
      sut.count(CacheStatus.CACHE_STATUS_HIT);
      sut.count(CacheStatus.CACHE_STATUS_MISS);

      const { counters } = await sut.stats(false);

      expect(counters).toMatchObject({ hits: 42, misses: misses + 1 });
    });
  });
});

describe(`${MovieCache.name} without Redis`, () => {
  let env: CacheTestingModule;
  let sut: MovieCache;

  beforeAll(async () => {
    env = await cacheTestingModule(
      [MovieCache, WriteThroughHandler, { provide: MoviesRepository, useValue: {} }],
      { redisUnreachable: true },
    );
    sut = env.module.get(MovieCache);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.source.reset());

  it('answers from MongoDB alone, as BYPASS, by id and by title', async () => {
    const movie = apiMovieFactory({ title: 'No Redis', year: 2001 });
    env.source.movies.set(movie.id, movie);
    const bypass = { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };

    await expect(sut.read(byId(movie))).resolves.toMatchObject(bypass);
    await expect(
      sut.read({ kind: 'title', title: movie.title, year: 2001 }),
    ).resolves.toMatchObject(bypass);
  });

  it('answers NOT_FOUND, naming the lookup, for a movie MongoDB does not have', async () => {
    const lookup: MovieLookup = { kind: 'title', title: 'Never Made', year: 2001 };

    await expect(sut.read(lookup)).rejects.toThrow(MovieNotFoundError);
    await expect(sut.read(lookup)).rejects.toThrow('Never Made');
  });

  it('reports this instance’s counters when they cannot be read from Redis', async () => {
    sut.count(CacheStatus.CACHE_STATUS_MISS);

    const stats = await sut.stats(true);

    expect(stats.counters).toEqual({ hits: 0, misses: 1, bypasses: 0, stale: 0 });
    expect(stats.ttlSeconds).toBe(env.config.cacheTtlSeconds);
  });
});

describe(`${MovieCache.name} while MongoDB's last answer was "unreachable"`, () => {
  let env: CacheTestingModule;
  let sut: MovieCache;

  beforeAll(async () => {
    env = await movieCacheModule({ CACHE_SOFT_TIMEOUT_MS: '60000' });
    sut = env.module.get(MovieCache);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.source.reset());

  it('serves a copy past its TTL as STALE at once, not after CACHE_SOFT_TIMEOUT_MS', async () => {
    const movie = apiMovieFactory();
    await env.cacheCopy(movie);
    await expireCopyIn(env.redis, movie.id, -1_000);
    env.source.unavailable = true;
    // MongoDB answers only after the cache did: a cache that waits for it times the test out.
    let answer = () => {};
    env.source.onId(() => new Promise<Movie>((resolve) => (answer = () => resolve(movie))));

    const result = await sut.read(byId(movie));
    answer();

    expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_STALE });
  }, 5_000);
});
