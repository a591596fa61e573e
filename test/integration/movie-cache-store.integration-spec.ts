import { DependencyUnavailableError } from '../../src/common/errors';
import { MovieCacheStore } from '../../src/movies/cache/movie-cache.store';
import { movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expectFreshTtl } from '../support/ttl';

describe(MovieCacheStore.name, () => {
  let env: CacheTestingModule;
  let sut: MovieCacheStore;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.store;
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const cachedRating = (id: string) => env.redis.hget(movieKey(id), 'rating');

  it('round-trips a movie through its hash, with and without a rating', async () => {
    const rated = apiMovieFactory({ genres: ['Sci-Fi', 'Ação'], cast: ['"Quoted" Name'] });
    const unrated = apiMovieFactory({ rating: undefined, genres: [] });
    await sut.fill(rated);
    await sut.fill(unrated);

    expect(await sut.read(rated.id)).toEqual({ kind: 'hit', movie: rated });
    expect(await sut.read(unrated.id)).toEqual({ kind: 'hit', movie: unrated });
  });

  it('a fill never replaces the same or a newer cached revision', async () => {
    const current = apiMovieFactory({ revision: 5, rating: 9 });
    await sut.install(current);

    const olderStored = await sut.fill({ ...current, revision: 4, rating: 1 });
    const sameStored = await sut.fill({ ...current, rating: 2 });

    expect([olderStored, sameStored]).toEqual([false, false]);
    expect(await cachedRating(current.id)).toBe('9');
  });

  it('a write-through replaces older and equal revisions and resets the TTL, but not a newer one', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fill(movie);
    await env.redis.expire(movieKey(movie.id), 3);

    await sut.install({ ...movie, revision: 2, rating: 6 });
    const ttl = await env.redis.ttl(movieKey(movie.id));
    await sut.install({ ...movie, revision: 1, rating: 1 });

    expectFreshTtl(ttl, env.config);
    expect(await cachedRating(movie.id)).toBe('6');
  });

  it('a fill drops fields the new copy no longer has', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fill(movie);

    await sut.install({ ...movie, revision: 2, rating: undefined });

    expect(await cachedRating(movie.id)).toBeNull();
  });

  it('treats an incomplete hash as a miss', async () => {
    const movie = apiMovieFactory();
    await env.redis.hset(movieKey(movie.id), 'id', movie.id, 'title', movie.title);

    expect(await sut.read(movie.id)).toEqual({ kind: 'miss' });
  });

  it('reports Redis failures as DependencyUnavailableError', async () => {
    const down = await cacheTestingModule([], { redisUnreachable: true });
    try {
      await expect(down.store.read(apiMovieFactory().id)).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    } finally {
      await down.module.close();
    }
  });
});
