import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { CachedCopies } from '../../src/movies/cache/cached-copies';
import { NearCache } from '../../src/movies/cache/near-cache';
import { OutageLedger } from '../../src/movies/cache/outage-ledger';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expireCopyIn } from '../support/expiry';
import { until } from '../support/wait';

/** MongoDB by id, as refresh-ahead reads it: counts its reads. */
const repository = {
  movies: new Map<string, Movie>(),
  reads: [] as string[],
  findById(id: string) {
    this.reads.push(id);
    return Promise.resolve(this.movies.get(id) ?? null);
  },
};

describe(CachedCopies.name, () => {
  let env: CacheTestingModule;
  let sut: CachedCopies;
  let near: NearCache;

  beforeAll(async () => {
    env = await cacheTestingModule(
      [CachedCopies, { provide: MoviesRepository, useValue: repository }],
      { env: { REFRESH_AHEAD: 'fraction', REFRESH_AHEAD_FRACTION: '0.5', FILL_LEASE_MS: '500' } },
    );
    sut = env.module.get(CachedCopies);
    near = env.module.get(NearCache);
    await until(async () => near.serving);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    repository.movies.clear();
    repository.reads = [];
    await env.redis.flushdb();
  });

  const cacheCopy = (movie: Movie) => env.cacheCopy(movie);

  it('does not answer from the Redis copy of an id written while Redis was away', async () => {
    const movie = apiMovieFactory();
    await cacheCopy(movie);

    env.module.get(OutageLedger).markDirty(movie.id);

    expect(await sut.read(movie.id)).toBeNull();
  });

  describe('waiting for another instance’s fill', () => {
    it('does not take a copy past its TTL for that fill: it waits for the fresh one', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await cacheCopy(movie);
      await expireCopyIn(env.redis, movie.id, -1_000);
      const filled = { ...movie, rating: 8 };
      setTimeout(() => void cacheCopy(filled), 100);

      const outcome = await sut.awaitFill(movie.id);

      expect(outcome).toMatchObject({ kind: 'movie', result: { movie: filled } });
    });

    it('gives up after FILL_LEASE_MS when no fill comes', async () => {
      await expect(sut.awaitFill(apiMovieFactory().id)).resolves.toBeNull();
    });
  });

  describe('refresh-ahead', () => {
    it('refreshes a copy read from Redis close to its expiry, in the background', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await cacheCopy(movie);
      await expireCopyIn(env.redis, movie.id, 2_000);
      repository.movies.set(movie.id, { ...movie, rating: 8 });

      await sut.read(movie.id);

      await until(async () => (await env.redis.hget(movieKey(movie.id), 'rating')) === '8');
      expect(repository.reads).toEqual([movie.id]);
    });

    it('refreshes a copy answered from the near-cache close to its expiry', async () => {
      const movie = apiMovieFactory({ rating: 5 });
      await cacheCopy(movie);
      near.keep(movie, 2_000, near.token());
      repository.movies.set(movie.id, { ...movie, rating: 8 });

      expect(sut.local(movie.id, 0)).toMatchObject({ kind: 'movie', result: { movie } });

      await until(async () => (await env.redis.hget(movieKey(movie.id), 'rating')) === '8');
      expect(repository.reads).toEqual([movie.id]);
    });

    it('leaves a copy far from its expiry alone', async () => {
      const [far, close] = [apiMovieFactory(), apiMovieFactory({ rating: 5 })];
      await cacheCopy(far);
      await cacheCopy(close);
      await expireCopyIn(env.redis, close.id, 2_000);
      near.keep(far, env.config.cacheTtlSeconds * 1000, near.token());
      repository.movies.set(close.id, { ...close, rating: 8 });

      sut.local(far.id, 0);
      near.invalidate(far.id);
      await sut.read(far.id);
      // A refresh of `far` would have started before this one, and read MongoDB first.
      await sut.read(close.id);

      await until(async () => (await env.redis.hget(movieKey(close.id), 'rating')) === '8');
      expect(repository.reads).toEqual([close.id]);
    });
  });
});
