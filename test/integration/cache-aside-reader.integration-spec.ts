import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import {
  CacheStatus,
  CacheTier,
  type Movie,
} from '../../src/generated/nest/movies/v1/movie_service';
import { CacheAsideReader } from '../../src/movies/cache/cache-aside.reader';
import { CachedCopies } from '../../src/movies/cache/cached-copies';
import { lookupKeys } from '../../src/movies/cache/lookup-keys';
import { NearCache } from '../../src/movies/cache/near-cache';
import { TitleMap } from '../../src/movies/cache/title-map';
import type { MovieLookup } from '../../src/movies/movie-lookup';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expireCopyIn } from '../support/expiry';
import { sleep, until } from '../support/wait';

/** The GetMovie handler as the reader sees it: counts its MongoDB reads. */
function handler(answer: Movie | Error | (() => Promise<Movie>)) {
  const load = async (): Promise<Movie> => {
    load.calls += 1;
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  };
  load.calls = 0;
  return load;
}

/** MongoDB by id (the reader reads a resolved title by id), and its "last answer was unreachable". */
const repository = {
  movies: new Map<string, Movie>(),
  reads: 0,
  unavailable: false,
  findById(id: string) {
    this.reads += 1;
    return Promise.resolve(this.movies.get(id) ?? null);
  },
};

async function readerModule(env: Record<string, string>) {
  const testing = await cacheTestingModule(
    [CacheAsideReader, CachedCopies, { provide: MoviesRepository, useValue: repository }],
    { env: { REFRESH_AHEAD: 'off', ...env } },
  );
  await until(async () => testing.module.get(NearCache).serving);
  return testing;
}

const byId = (movie: Movie): MovieLookup => ({ kind: 'id', id: movie.id });
const mongoDown = () => new DependencyUnavailableError('MongoDB');

describe(CacheAsideReader.name, () => {
  let env: CacheTestingModule;
  let sut: CacheAsideReader;

  beforeAll(async () => {
    env = await readerModule({ CACHE_SOFT_TIMEOUT_MS: '100' });
    sut = env.module.get(CacheAsideReader);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    repository.movies.clear();
    repository.reads = 0;
    repository.unavailable = false;
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
    const load = handler(error);

    await expect(sut.read(byId(apiMovieFactory()), load)).rejects.toBe(error);
    expect(load.calls).toBe(1);
  });

  describe('a copy past its TTL', () => {
    it('is replaced by MongoDB’s answer within CACHE_SOFT_TIMEOUT_MS, a MISS', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await graced(movie);
      const now = { ...movie, rating: 8 };

      const result = await sut.read(byId(movie), handler(now));

      expect(result).toMatchObject({ movie: now, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
    });

    it('is served as STALE while MongoDB is unreachable', async () => {
      const movie = apiMovieFactory();
      await graced(movie);

      const result = await sut.read(byId(movie), handler(mongoDown()));

      expect(result).toEqual({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_STALE,
        cacheTier: CacheTier.CACHE_TIER_REDIS,
      });
    });

    it('is served as STALE when MongoDB answers later than CACHE_SOFT_TIMEOUT_MS, and refilled when it does', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await graced(movie);
      const load = handler(() => sleep(600).then(() => ({ ...movie, rating: 8 })));

      const result = await sut.read(byId(movie), load);

      expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_STALE });
      await until(async () => (await env.redis.hget(movieKey(movie.id), 'rating')) === '8');
      expect(load.calls).toBe(1);
    });

    it('is not served when the MongoDB read fails otherwise', async () => {
      const movie = apiMovieFactory();
      await graced(movie);

      await expect(sut.read(byId(movie), handler(new Error('query failed')))).rejects.toThrow(
        'query failed',
      );
    });

    it('is not served once a newer write was recorded, even with MongoDB unreachable', async () => {
      const movie = apiMovieFactory({ revision: 1 });
      await graced(movie);
      const fence = await env.redis.get(fenceKey(movie.id));
      await env.redis.set(fenceKey(movie.id), `${fence!.split(':')[0]}:2`);

      await expect(sut.read(byId(movie), handler(mongoDown()))).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    });
  });

  describe('a title', () => {
    const title = (name: string): MovieLookup => ({ kind: 'title', title: name, year: 1999 });

    it('another instance is resolving: waits for its answer, no title query', async () => {
      const movie = apiMovieFactory({ title: 'Resolved Elsewhere', year: 1999 });
      repository.movies.set(movie.id, movie);
      await env.redis.set(lookupKeys(title(movie.title)).lease, 'other', 'PX', 5_000);
      const load = handler(movie);
      setTimeout(() => void env.module.get(TitleMap).remember(movie.title, 1999, movie.id), 100);

      const result = await sut.read(title(movie.title), load);

      expect(result.movie).toEqual(movie);
      expect(load.calls).toBe(0);
    });

    it('remembered absent: NOT_FOUND again without any MongoDB read, by title or by id', async () => {
      const first = handler(new MovieNotFoundError('title Never Made'));
      const second = handler(new Error('must not be called'));

      await expect(sut.read(title('Never Made'), first)).rejects.toBeInstanceOf(MovieNotFoundError);
      await expect(sut.read(title('Never Made'), second)).rejects.toBeInstanceOf(
        MovieNotFoundError,
      );

      expect([first.calls, second.calls, repository.reads]).toEqual([1, 0, 0]);
    });

    it('naming a movie that is gone by the time it is read by id: NOT_FOUND', async () => {
      const gone = apiMovieFactory({ title: 'Gone Since', year: 1999 });

      await expect(sut.read(title(gone.title), handler(gone))).rejects.toBeInstanceOf(
        MovieNotFoundError,
      );
      expect(repository.reads).toBe(1);
    });

    it('is a MISS when its query ran, even if the movie was cached by id', async () => {
      const movie = apiMovieFactory({ title: 'Cached By Id', year: 1999 });
      repository.movies.set(movie.id, movie);
      await sut.read(byId(movie), handler(movie));

      const result = await sut.read(title(movie.title), handler(movie));

      expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS });
    });

    it('once read, is answered from the near-cache synchronously, as an id is', async () => {
      const movie = apiMovieFactory({ title: 'Near Title', year: 1999 });
      repository.movies.set(movie.id, movie);
      await sut.read(title(movie.title), handler(movie));

      expect(sut.local(title(movie.title))).toEqual({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        cacheTier: CacheTier.CACHE_TIER_LOCAL,
      });
      expect(sut.local(title('Never Read'))).toBeNull();
      expect(sut.local(byId(apiMovieFactory()))).toBeNull();
    });
  });
});

describe(`${CacheAsideReader.name} while MongoDB's last answer was "unreachable"`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await readerModule({ CACHE_SOFT_TIMEOUT_MS: '60000' });
  });
  afterAll(() => env.module.close());
  afterEach(() => (repository.unavailable = false));

  it('serves a copy past its TTL as STALE at once, not after CACHE_SOFT_TIMEOUT_MS', async () => {
    const movie = apiMovieFactory();
    await env.cacheCopy(movie);
    await env.redis.hset(movieKey(movie.id), 'expiresAt', 0);
    repository.unavailable = true;
    // MongoDB answers only after the reader did: a reader that waits for it times the test out.
    let answer = () => {};
    const load = handler(() => new Promise<Movie>((resolve) => (answer = () => resolve(movie))));

    const result = await env.module.get(CacheAsideReader).read(byId(movie), load);
    answer();

    expect(result).toMatchObject({ movie, cacheStatus: CacheStatus.CACHE_STATUS_STALE });
  }, 5_000);
});
