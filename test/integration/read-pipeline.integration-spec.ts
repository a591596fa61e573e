import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import {
  CacheStatus,
  CacheTier,
  type Movie,
} from '../../src/generated/nest/movies/v1/movie_service';
import { CachePolicy } from '../../src/movies/cache/cache-policy';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import { lookupKeys } from '../../src/movies/cache/lookup-keys';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { ReadPipeline } from '../../src/movies/cache/read-pipeline';
import { LogicalClock } from '../../src/movies/cache/read-outcome';
import { RefreshAhead } from '../../src/movies/cache/refresh-ahead';
import { TitleMap } from '../../src/movies/cache/title-map';
import { TitleReads } from '../../src/movies/cache/title-reads';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { absentKey, fenceKey, leaseKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { refreshCounts } from '../support/app-metrics';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expireCopyIn, readCopy } from '../support/cached-copy';
import { sleep, until } from '../support/wait';

describe(ReadPipeline.name, () => {
  let env: CacheTestingModule;
  let sut: ReadPipeline;
  let near: NearCache;
  let clock: LogicalClock;
  /** What the fill hook does between a miss's MongoDB read and its fill (nothing unless set). */
  let beforeFill: CacheHooks['beforeFill'];

  beforeAll(async () => {
    env = await cacheTestingModule([], {
      env: { REFRESH_AHEAD: 'off', FILL_LEASE_MS: '500', CACHE_SOFT_TIMEOUT_MS: '5000' },
      hooks: { beforeFill: (movie) => beforeFill(movie) },
    });
    sut = env.module.get(ReadPipeline);
    near = env.module.get(NearCache);
    clock = env.module.get(LogicalClock);
    await until(async () => near.serving);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    beforeFill = () => Promise.resolve();
    env.source.reset();
    near.clear();
    await env.redis.flushdb();
  });

  const read = (id: string) => sut.read(id, clock.tick());
  const cached = async (id: string) => (await readCopy(env.redis, id))!;
  const otherInstanceLeases = (key: string) => env.redis.set(key, 'other', 'PX', 10_000);

  describe('another instance holds the lease', () => {
    it('takes its fill instead of reading MongoDB', async () => {
      const movie = apiMovieFactory();
      await otherInstanceLeases(leaseKey(movie.id));
      setTimeout(() => void env.cacheCopy(movie), 100);

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie } });
      expect(env.source.idReads).toBe(0);
      expect(await env.redis.get(leaseKey(movie.id))).toBe('other');
    });

    it('does not take a copy past its TTL for that fill: it waits for the fresh one', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await env.cacheCopy(movie);
      await expireCopyIn(env.redis, movie.id, -1_000);
      await otherInstanceLeases(leaseKey(movie.id));
      const filled = { ...movie, rating: 8 };
      setTimeout(() => void env.cacheCopy(filled), 100);

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie: filled } });
      expect(env.source.idReads).toBe(0);
    });

    it('reads MongoDB itself once FILL_LEASE_MS passed without a fill', async () => {
      const movie = apiMovieFactory();
      await otherInstanceLeases(leaseKey(movie.id));
      env.source.movies.set(movie.id, movie);
      const started = performance.now();

      const outcome = await read(movie.id);

      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      expect(outcome).toMatchObject({ kind: 'movie', result: { movie } });
      expect(env.source.idReads).toBe(1);
    });
  });

  describe('a miss', () => {
    it('answers with a newer copy a write cached during its read, after one MongoDB read', async () => {
      const movie = apiMovieFactory({ revision: 0 });
      const written = { ...movie, revision: 1, rating: 2 };
      const reads = env.source.onId(async () => {
        await env.writeThrough(written);
        return movie;
      });

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({
        kind: 'movie',
        result: { movie: written, cacheStatus: CacheStatus.CACHE_STATUS_MISS },
      });
      expect(reads.calls).toBe(1);
    });

    it('reads MongoDB again when a write moved the fence and its copy was evicted, and fills the second read', async () => {
      const movie = apiMovieFactory({ revision: 0 });
      const written = { ...movie, revision: 1, rating: 2 };
      const reads = env.source.onId(async () => {
        await env.writeThrough(written);
        await env.redis.del(movieKey(movie.id));
        return movie;
      }, written);

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie: written } });
      expect(reads.calls).toBe(2);
      expect((await cached(movie.id)).revision).toBe(1);
    });

    it('reads the fence again when it was lost during the read, and then fills', async () => {
      const movie = apiMovieFactory();
      const reads = env.source.onId(async () => {
        await env.redis.del(fenceKey(movie.id));
        return movie;
      }, movie);

      await read(movie.id);

      expect(reads.calls).toBe(2);
      expect((await cached(movie.id)).title).toBe(movie.title);
    });

    it('answers BYPASS when Redis fails at the fill, and releases its lease', async () => {
      const movie = apiMovieFactory();
      env.source.onId(movie);
      beforeFill = () => Promise.reject(new DependencyUnavailableError('Redis'));

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({
        kind: 'movie',
        result: { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS },
      });
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    });

    it('passes on any other failure at the fill, and releases its lease', async () => {
      const movie = apiMovieFactory();
      env.source.onId(movie);
      beforeFill = () => Promise.reject(new Error('fill failed'));

      await expect(read(movie.id)).rejects.toThrow('fill failed');
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    });

    it('remembers an id MongoDB does not have as absent', async () => {
      const id = apiMovieFactory().id;
      env.source.onId(new MovieNotFoundError(`id ${id}`));

      const outcome = await read(id);

      expect(outcome.kind).toBe('absent');
      expect(await env.redis.exists(absentKey(id))).toBe(1);
    });

    it('MongoDB below the fence three times (an import lowered the revision, feed off): the fourth read is linearizable, resets the fence, and the next miss fills', async () => {
      const movie = apiMovieFactory({ revision: 17, rating: 9 });
      await env.writeThrough(movie);
      await env.redis.del(movieKey(movie.id));
      const imported = { ...movie, revision: 0, rating: 4 };
      const reads = env.source.onId(imported);

      const first = await read(movie.id);
      const second = await read(movie.id);

      expect(first).toMatchObject({ kind: 'movie', result: { movie: imported } });
      expect(reads.calls).toBe(5); // three refused fills, the confirming read, then one filled
      expect(second).toMatchObject({ kind: 'movie', result: { movie: imported } });
      expect((await cached(movie.id)).revision).toBe(0);
    });

    it("a lagging (deposed) primary below the fence is not answered: the linearizable read's newer revision is, and the fence keeps its floor", async () => {
      const movie = apiMovieFactory({ revision: 5, rating: 9 });
      await env.writeThrough(movie);
      await env.redis.del(movieKey(movie.id));
      env.source.onId({ ...movie, revision: 4, rating: 1 }); // the deposed primary
      env.source.onLinearizable(movie); // the primary that is

      const outcome = await read(movie.id);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie } });
      expect(env.source.linearizableReads).toBe(1);
      expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:5$/);
    });

    it('reads at the linearizable concern when no fence vouches for a revision (a cold or lost one), and only then', async () => {
      const movie = apiMovieFactory();
      env.source.movies.set(movie.id, movie);

      await read(movie.id);
      await env.redis.del(movieKey(movie.id));
      near.clear();
      await read(movie.id);

      expect(env.source.idReads).toBe(2);
      expect(env.source.linearizableReads).toBe(1);
    });

    it('keeps the filled copy in the near-cache: the next read is a local hit without Redis', async () => {
      const movie = apiMovieFactory();
      env.source.onId(movie);
      await read(movie.id);

      expect(sut.nearHit(movie.id)).toMatchObject({ movie, cacheTier: CacheTier.CACHE_TIER_LOCAL });
    });
  });
});

describe(TitleReads.name, () => {
  let env: CacheTestingModule;
  let sut: TitleReads;
  let clock: LogicalClock;
  const lookup = (title: string) => ({ kind: 'title' as const, title, year: 1999 });
  const read = (title: string) => sut.read(lookup(title), lookupKeys(lookup(title)), clock.tick());

  beforeAll(async () => {
    env = await cacheTestingModule([], { env: { REFRESH_AHEAD: 'off', FILL_LEASE_MS: '2000' } });
    sut = env.module.get(TitleReads);
    clock = env.module.get(LogicalClock);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    await env.redis.flushdb();
  });

  it('holding the lease, queries the title once, remembers its id and releases the lease', async () => {
    const movie = apiMovieFactory({ title: 'Leased Title', year: 1999 });
    env.source.movies.set(movie.id, movie);
    const keys = lookupKeys(lookup(movie.title));

    const outcome = await read(movie.title);

    expect(outcome).toMatchObject({
      kind: 'movie',
      result: { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS },
    });
    expect(env.source.titleReads).toBe(1);
    expect(await env.module.get(TitleMap).resolve(keys.title)).toBe(movie.id);
    expect(await env.redis.exists(keys.lease)).toBe(0);
  });

  it('a title miss overtaken by a write that moved the title (another movie got more votes) remembers no mapping, here or in the near-cache: the next lookup asks again', async () => {
    const fewer = apiMovieFactory({ title: 'Shared Title', year: 1999, imdbVotes: 10 });
    const more = apiMovieFactory({ title: 'Shared Title', year: 1999, imdbVotes: 20 });
    const keys = lookupKeys(lookup(fewer.title));
    env.source.movies.set(fewer.id, fewer);
    env.source.movies.set(more.id, more);
    const fence = env.module.get(WriteFence);
    const near = env.module.get(NearCache);
    near.extendLease(performance.now() + 60_000);
    env.source.onTitle(async () => {
      // The change feed applies the write that gave `more` its votes while the query runs.
      await fence.raiseTitle(fewer.title, fewer.year, true);
      near.forgetTitle(keys.title);
      return fewer;
    }, more);

    expect(await read(fewer.title)).toMatchObject({ kind: 'movie', result: { movie: fewer } });

    expect(await env.module.get(TitleMap).resolve(keys.title)).toBeUndefined();
    expect(near.title(keys.title)).toBeUndefined();
    expect(await read(fewer.title)).toMatchObject({ kind: 'movie', result: { movie: more } });
    expect(env.source.titleReads).toBe(2);
  });

  it('takes the resolution of the instance holding the lease instead of querying', async () => {
    const movie = apiMovieFactory({ title: 'Their Title', year: 1999 });
    env.source.movies.set(movie.id, movie);
    const keys = lookupKeys(lookup(movie.title));
    await env.redis.set(keys.lease, 'other', 'PX', 10_000);
    setTimeout(() => void env.module.get<Cache>(CACHE_MANAGER).set(keys.title, movie.id), 100);

    const outcome = await read(movie.title);

    expect(outcome).toMatchObject({ kind: 'movie', result: { movie } });
    expect(env.source.titleReads).toBe(0);
    expect(await env.redis.get(keys.lease)).toBe('other');
  });

  it('a read that joined a title query begun before it arrived queries again when that query found nothing it may take', async () => {
    const movie = apiMovieFactory({ title: 'Added Meanwhile', year: 1999 });
    env.source.movies.set(movie.id, movie);
    let release = () => {};
    const firstQuery = new Promise<void>((started) => {
      env.source.onTitle(
        () =>
          new Promise((resolve) => {
            release = () => resolve(null);
            started();
          }),
        movie,
      );
    });
    const leader = read(movie.title);
    await firstQuery;
    const follower = read(movie.title);
    await sleep(50); // the follower has joined the running query
    await env.module.get(WriteFence).raiseTitle(movie.title, 1999); // the write that added it
    release();

    await expect(leader).resolves.toMatchObject({ kind: 'absent' });
    await expect(follower).resolves.toMatchObject({ kind: 'movie', result: { movie } });
    expect(env.source.titleReads).toBe(2);
  });

  it('passes on a failure of the title query that is not "not found", and remembers nothing', async () => {
    const keys = lookupKeys(lookup('Failing Title'));
    env.source.onTitle(new Error('query failed'));

    await expect(read('Failing Title')).rejects.toThrow('query failed');
    expect(await env.redis.exists(absentKey(keys.tag, keys.year))).toBe(0);
  });
});

describe(RefreshAhead.name, () => {
  let env: CacheTestingModule;
  let sut: RefreshAhead;
  let near: NearCache;
  let pipeline: ReadPipeline;

  beforeAll(async () => {
    env = await cacheTestingModule([], {
      env: { REFRESH_AHEAD: 'fraction', REFRESH_AHEAD_FRACTION: '0.5', FILL_LEASE_MS: '500' },
    });
    sut = env.module.get(RefreshAhead);
    near = env.module.get(NearCache);
    pipeline = env.module.get(ReadPipeline);
    await until(async () => near.serving);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    env.source.reset();
    near.clear();
    await env.redis.flushdb();
    // Each spec uses new ids: a refresh of an id is retried only a second later.
  });

  const cached = async (id: string) => (await readCopy(env.redis, id))!;
  const refreshes = async () => refreshCounts(env.module);
  const moreRefreshes = async (before: Record<string, number>, outcome: string) =>
    ((await refreshes())[outcome] ?? 0) - (before[outcome] ?? 0);
  const tick = () => env.module.get(LogicalClock).tick();

  it('stores the copy MongoDB gives now, keeps it in the near-cache, counts it and releases its lease', async () => {
    const movie = apiMovieFactory({ rating: 5 });
    await env.cacheCopy(movie);
    const fresh = { ...movie, rating: 9 };
    env.source.onId(fresh);
    const before = await refreshes();

    await sut.refresh(movie.id);

    expect((await cached(movie.id)).rating).toBe(9);
    expect(near.movie(movie.id)?.hit.movie).toEqual(fresh);
    expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    expect(await moreRefreshes(before, 'stored')).toBe(1);
  });

  it('refreshes an id once a second at most: a second refresh within it reads nothing', async () => {
    const movie = apiMovieFactory();
    await env.cacheCopy(movie);
    const reads = env.source.onId(movie);

    await sut.refresh(movie.id);
    await sut.refresh(movie.id);
    expect(reads.calls).toBe(1);
    await sleep(1_100);
    await sut.refresh(movie.id);

    expect(reads.calls).toBe(2);
  });

  it('leaves the refresh to the instance holding the lease', async () => {
    const movie = apiMovieFactory();
    await env.cacheCopy(movie);
    await env.redis.set(leaseKey(movie.id), 'other', 'PX', 10_000);

    await sut.refresh(movie.id);

    expect(env.source.idReads).toBe(0);
    expect(await env.redis.get(leaseKey(movie.id))).toBe('other');
  });

  it('loses to a write made during it: the written copy stays, in Redis, and none in the near-cache', async () => {
    const movie = apiMovieFactory({ revision: 0, rating: 5 });
    await env.cacheCopy(movie);
    const written = { ...movie, revision: 1, rating: 2 };
    env.source.onId(async () => {
      await env.writeThrough(written);
      return { ...movie, rating: 9 };
    });
    const before = await refreshes();

    await sut.refresh(movie.id);

    expect(await cached(movie.id)).toMatchObject({ revision: 1, rating: 2 });
    expect(near.movie(movie.id)).toBeUndefined();
    expect(await moreRefreshes(before, 'cached')).toBe(1);
  });

  it('counts a failed refresh, leaves the copy as it was and releases its lease', async () => {
    const movie = apiMovieFactory({ rating: 5 });
    await env.cacheCopy(movie);
    env.source.onId(new Error('MongoDB read failed'));
    const before = await refreshes();

    await sut.refresh(movie.id);

    expect((await cached(movie.id)).rating).toBe(5);
    expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    expect(await moreRefreshes(before, 'failed')).toBe(1);
  });

  it('counts the refresh of a movie MongoDB no longer has as failed, and leaves the copy', async () => {
    const movie = apiMovieFactory({ rating: 5 });
    await env.cacheCopy(movie);
    const before = await refreshes();

    await sut.refresh(movie.id);

    expect((await cached(movie.id)).rating).toBe(5);
    expect(await moreRefreshes(before, 'failed')).toBe(1);
  });

  it('is started by a read from Redis of a copy close to its expiry', async () => {
    const movie = apiMovieFactory({ rating: 5 });
    await env.cacheCopy(movie);
    await expireCopyIn(env.redis, movie.id, 2_000);
    env.source.movies.set(movie.id, { ...movie, rating: 8 });

    await pipeline.read(movie.id, tick());

    await until(async () => (await readCopy(env.redis, movie.id))?.rating === 8);
    expect(env.source.idReads).toBe(1);
  });

  it('is started by a near-cache hit on a copy close to its expiry', async () => {
    const movie = apiMovieFactory({ rating: 5 });
    await env.cacheCopy(movie);
    near.keep(movie, 2_000, near.invalidationCount());
    env.source.movies.set(movie.id, { ...movie, rating: 8 });

    expect(pipeline.nearHit(movie.id)).toMatchObject({ movie });

    await until(async () => (await readCopy(env.redis, movie.id))?.rating === 8);
    expect(env.source.idReads).toBe(1);
  });

  it('leaves a copy far from its expiry alone', async () => {
    const [far, close] = [apiMovieFactory(), apiMovieFactory({ rating: 5 })];
    await env.cacheCopy(far);
    await env.cacheCopy(close);
    await expireCopyIn(env.redis, close.id, 2_000);
    near.keep(far, env.config.cacheTtlSeconds * 1000, near.invalidationCount());
    env.source.movies.set(close.id, { ...close, rating: 8 });

    pipeline.nearHit(far.id);
    near.invalidate(far.id);
    await pipeline.read(far.id, tick());
    // A refresh of `far` would have started before this one, and read MongoDB first.
    await pipeline.read(close.id, tick());

    await until(async () => (await readCopy(env.redis, close.id))?.rating === 8);
    expect(env.source.idReads).toBe(1);
  });
});

describe(`${CachePolicy.name}: the cost of a miss, for refresh-ahead (xfetch)`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await cacheTestingModule([], {
      env: { REFRESH_AHEAD: 'xfetch', REFRESH_AHEAD_BETA: '1' },
    });
  });
  afterAll(() => env.module.close());

  it('follows what misses take: after fast misses a copy a second from expiry is not due, after slow ones one 100 ms from it is', async () => {
    const pipeline = env.module.get(ReadPipeline);
    const clock = env.module.get(LogicalClock);
    const policy = env.module.get(CachePolicy);
    const dueIn = (ms: number) => Array.from({ length: 100 }, () => policy.refreshDue(ms));
    const miss = (delayMs: number) => {
      const movie: Movie = apiMovieFactory();
      env.source.onId(() => sleep(delayMs).then(() => movie));
      return pipeline.read(movie.id, clock.tick());
    };

    for (let i = 0; i < 5; i += 1) await miss(0);
    const afterFast = dueIn(1_000);
    for (let i = 0; i < 10; i += 1) await miss(150);
    const afterSlow = dueIn(100);

    expect(afterFast.some(Boolean)).toBe(false);
    expect(afterSlow.some(Boolean)).toBe(true);
  });
});
