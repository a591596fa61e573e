import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import { CacheStatus, type Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { CacheMisses } from '../../src/movies/cache/cache-misses';
import { CachePolicy } from '../../src/movies/cache/cache-policy';
import type { FillHook } from '../../src/movies/cache/fill-hook';
import { lookupKeys } from '../../src/movies/cache/lookup-keys';
import { NearCache } from '../../src/movies/cache/near-cache';
import type { ReadOutcome } from '../../src/movies/cache/read-outcome';
import { TitleMap } from '../../src/movies/cache/title-map';
import { absentKey, fenceKey, leaseKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { refreshCounts } from '../support/app-metrics';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { sleep, until } from '../support/wait';

/** MongoDB as a miss sees it: each call gives the next answer (the last one repeats). */
function reads(...answers: Array<Movie | Error | (() => Promise<Movie>)>) {
  const load = async (): Promise<Movie> => {
    const next = answers[Math.min(load.calls, answers.length - 1)];
    load.calls += 1;
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next;
  };
  load.calls = 0;
  return load;
}

const nobodyElse = () => Promise.resolve(null);

describe(CacheMisses.name, () => {
  let env: CacheTestingModule;
  let sut: CacheMisses;
  let near: NearCache;
  /** What the fill hook does between a miss's MongoDB read and its fill (nothing unless set). */
  let beforeFill: FillHook['beforeFill'];

  beforeAll(async () => {
    env = await cacheTestingModule([], {
      env: { REFRESH_AHEAD: 'off' },
      fillHook: { beforeFill: (movie) => beforeFill(movie) },
    });
    sut = env.module.get(CacheMisses);
    near = env.module.get(NearCache);
    await until(async () => near.serving);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    beforeFill = () => Promise.resolve();
    await env.redis.flushdb();
  });

  const cached = (id: string) => env.redis.hgetall(movieKey(id));
  const cacheCopy = (movie: Movie) => env.cacheCopy(movie);
  const otherInstanceLeases = (key: string) => env.redis.set(key, 'other', 'PX', 10_000);
  const refreshes = async () => refreshCounts(env.module);
  const moreRefreshes = async (before: Record<string, number>, outcome: string) =>
    ((await refreshes())[outcome] ?? 0) - (before[outcome] ?? 0);

  describe('refresh-ahead', () => {
    it('stores the copy MongoDB gives now, keeps it in the near-cache, counts it and releases its lease', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await cacheCopy(movie);
      const fresh = { ...movie, rating: 9 };
      const before = await refreshes();

      await sut.refresh(movie.id, reads(fresh));

      expect((await cached(movie.id)).rating).toBe('9');
      expect(near.movie(movie.id)?.movie).toEqual(fresh);
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
      expect(await moreRefreshes(before, 'stored')).toBe(1);
    });

    it('refreshes an id once a second at most: a second refresh within it reads nothing', async () => {
      const movie = apiMovieFactory();
      await cacheCopy(movie);
      const [first, second, third] = [reads(movie), reads(movie), reads(movie)];

      await sut.refresh(movie.id, first);
      await sut.refresh(movie.id, second);
      await sleep(1_100);
      await sut.refresh(movie.id, third);

      expect([first.calls, second.calls, third.calls]).toEqual([1, 0, 1]);
    });

    it('leaves the refresh to the instance holding the lease', async () => {
      const movie = apiMovieFactory();
      await cacheCopy(movie);
      await otherInstanceLeases(leaseKey(movie.id));
      const load = reads(movie);

      await sut.refresh(movie.id, load);

      expect(load.calls).toBe(0);
      expect(await env.redis.get(leaseKey(movie.id))).toBe('other');
    });

    it('loses to a write made during it: the written copy stays, in Redis, and none in the near-cache', async () => {
      const movie = apiMovieFactory({ revision: 0, rating: 5 });
      await cacheCopy(movie);
      const written = { ...movie, revision: 1, rating: 2 };
      const before = await refreshes();

      await sut.refresh(
        movie.id,
        reads(async () => {
          await env.store.install(written);
          return { ...movie, rating: 9 };
        }),
      );

      expect(await cached(movie.id)).toMatchObject({ revision: '1', rating: '2' });
      expect(near.movie(movie.id)).toBeUndefined();
      expect(await moreRefreshes(before, 'cached')).toBe(1);
    });

    it('counts a failed refresh, leaves the copy as it was and releases its lease', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await cacheCopy(movie);
      const before = await refreshes();

      await sut.refresh(movie.id, reads(new Error('MongoDB read failed')));

      expect((await cached(movie.id)).rating).toBe('5');
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
      expect(await moreRefreshes(before, 'failed')).toBe(1);
    });
  });

  describe('a miss of an id', () => {
    it('answers with a newer copy a write cached during its read, after one MongoDB read', async () => {
      const movie = apiMovieFactory({ revision: 0 });
      const written = { ...movie, revision: 1, rating: 2 };
      const load = reads(async () => {
        await env.store.install(written);
        return movie;
      });

      const outcome = await sut.byId(movie.id, load, nobodyElse);

      expect(outcome).toMatchObject({
        kind: 'movie',
        result: { movie: written, cacheStatus: CacheStatus.CACHE_STATUS_MISS },
      });
      expect(load.calls).toBe(1);
    });

    it('reads MongoDB again when a write moved the fence and its copy was evicted, and fills the second read', async () => {
      const movie = apiMovieFactory({ revision: 0 });
      const written = { ...movie, revision: 1, rating: 2 };
      const load = reads(async () => {
        await env.store.install(written);
        await env.redis.del(movieKey(movie.id));
        return movie;
      }, written);

      const outcome = await sut.byId(movie.id, load, nobodyElse);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie: written } });
      expect(load.calls).toBe(2);
      expect((await cached(movie.id)).revision).toBe('1');
    });

    it('reads the fence again when it was lost during the read, and then fills', async () => {
      const movie = apiMovieFactory();
      const load = reads(async () => {
        await env.redis.del(fenceKey(movie.id));
        return movie;
      }, movie);

      await sut.byId(movie.id, load, nobodyElse);

      expect(load.calls).toBe(2);
      expect((await cached(movie.id)).title).toBe(movie.title);
    });

    it('answers BYPASS when Redis fails at the fill, and releases its lease', async () => {
      const movie = apiMovieFactory();
      beforeFill = () => Promise.reject(new DependencyUnavailableError('Redis'));

      const outcome = await sut.byId(movie.id, reads(movie), nobodyElse);

      expect(outcome).toMatchObject({
        kind: 'movie',
        result: { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS },
      });
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    });

    it('passes on any other failure at the fill, and releases its lease', async () => {
      const movie = apiMovieFactory();
      beforeFill = () => Promise.reject(new Error('fill failed'));

      await expect(sut.byId(movie.id, reads(movie), nobodyElse)).rejects.toThrow('fill failed');
      expect(await env.redis.exists(leaseKey(movie.id))).toBe(0);
    });

    it('takes the fill of the instance holding the lease instead of reading MongoDB', async () => {
      const movie = apiMovieFactory();
      await otherInstanceLeases(leaseKey(movie.id));
      const theirs: ReadOutcome = { kind: 'absent', freshAsOf: 0 };
      const load = reads(movie);

      const outcome = await sut.byId(movie.id, load, () => Promise.resolve(theirs));

      expect(outcome).toBe(theirs);
      expect(load.calls).toBe(0);
      expect(await env.redis.get(leaseKey(movie.id))).toBe('other');
    });

    it('remembers an id MongoDB does not have as absent', async () => {
      const id = apiMovieFactory().id;

      const outcome = await sut.byId(id, reads(new MovieNotFoundError(`id ${id}`)), nobodyElse);

      expect(outcome.kind).toBe('absent');
      expect(await env.redis.exists(absentKey(id))).toBe(1);
    });
  });

  describe('a miss of a title', () => {
    const lookup = (title: string) => ({ kind: 'title' as const, title, year: 1999 });

    it('holding the lease, queries the title once without waiting, remembers its id and releases the lease', async () => {
      const movie = apiMovieFactory({ title: 'Leased Title', year: 1999 });
      const keys = lookupKeys(lookup(movie.title));
      let waited = 0;
      const load = reads(movie);

      const { resolved } = await sut.byTitle(lookup(movie.title), load, () => {
        waited += 1;
        return Promise.resolve(null);
      });

      expect(resolved).toEqual({ kind: 'id', id: movie.id });
      expect([load.calls, waited]).toEqual([1, 0]);
      expect(await env.module.get(TitleMap).resolve(movie.title, 1999)).toBe(movie.id);
      expect(await env.redis.exists(keys.lease)).toBe(0);
    });

    it('takes the resolution of the instance holding the lease instead of querying', async () => {
      const keys = lookupKeys(lookup('Their Title'));
      await otherInstanceLeases(keys.lease);
      const load = reads(apiMovieFactory());

      const { resolved } = await sut.byTitle(lookup('Their Title'), load, () =>
        Promise.resolve({ kind: 'id' as const, id: 'theirs' }),
      );

      expect(resolved).toEqual({ kind: 'id', id: 'theirs' });
      expect(load.calls).toBe(0);
      expect(await env.redis.get(keys.lease)).toBe('other');
    });

    it('passes on a failure of the title query that is not "not found", and remembers nothing', async () => {
      const keys = lookupKeys(lookup('Failing Title'));

      await expect(
        sut.byTitle(lookup('Failing Title'), reads(new Error('query failed')), nobodyElse),
      ).rejects.toThrow('query failed');
      expect(await env.redis.exists(absentKey(keys.tag, keys.year))).toBe(0);
    });
  });
});

describe(`${CacheMisses.name}: the cost of a miss, for refresh-ahead (xfetch)`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await cacheTestingModule([], {
      env: { REFRESH_AHEAD: 'xfetch', REFRESH_AHEAD_BETA: '1' },
    });
  });
  afterAll(() => env.module.close());

  it('follows what misses take: after fast misses a copy a second from expiry is not due, after slow ones one 100 ms from it is', async () => {
    const misses = env.module.get(CacheMisses);
    const policy = env.module.get(CachePolicy);
    const dueIn = (ms: number) => Array.from({ length: 100 }, () => policy.refreshDue(ms));
    const miss = (delayMs: number) => {
      const movie = apiMovieFactory();
      return misses.byId(movie.id, () => sleep(delayMs).then(() => movie), nobodyElse);
    };

    for (let i = 0; i < 5; i += 1) await miss(0);
    const afterFast = dueIn(1_000);
    for (let i = 0; i < 10; i += 1) await miss(150);
    const afterSlow = dueIn(100);

    expect(afterFast.some(Boolean)).toBe(false);
    expect(afterSlow.some(Boolean)).toBe(true);
  });
});
