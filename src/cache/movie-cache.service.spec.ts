import { apiMovieFactory } from '../../test/factories/api-movie.factory';
import {
  cacheTestingModule,
  type CacheTestingModule,
} from '../../test/support/cache-testing-module';
import { DependencyUnavailableError } from '../common/errors';
import { movieKey } from './cache-keys';
import { MovieCache } from './movie-cache.service';
import { expectFreshTtl } from '../../test/support/ttl';

describe(MovieCache.name, () => {
  let env: CacheTestingModule;
  let sut: MovieCache;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.cache;
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const cachedRating = (id: string) => env.redis.hget(movieKey(id), 'rating');

  it('round-trips a movie through its hash, with and without a rating', async () => {
    const rated = apiMovieFactory({ genres: ['Sci-Fi', 'Ação'], cast: ['"Quoted" Name'] });
    const unrated = apiMovieFactory({ rating: undefined, genres: [] });
    await sut.fillMovie(rated);
    await sut.fillMovie(unrated);

    expect(await sut.readMovie(rated.id)).toEqual({ kind: 'hit', movie: rated });
    expect(await sut.readMovie(unrated.id)).toEqual({ kind: 'hit', movie: unrated });
  });

  it('a fill never replaces the same or a newer cached revision', async () => {
    const current = apiMovieFactory({ revision: 5, rating: 9 });
    await sut.writeThrough(current);

    const olderStored = await sut.fillMovie({ ...current, revision: 4, rating: 1 });
    const sameStored = await sut.fillMovie({ ...current, rating: 2 });

    expect([olderStored, sameStored]).toEqual([false, false]);
    expect(await cachedRating(current.id)).toBe('9');
  });

  it('a write-through replaces older and equal revisions and resets the TTL, but not a newer one', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fillMovie(movie);
    await env.redis.expire(movieKey(movie.id), 3);

    await sut.writeThrough({ ...movie, revision: 2, rating: 6 });
    const ttl = await env.redis.ttl(movieKey(movie.id));
    await sut.writeThrough({ ...movie, revision: 1, rating: 1 });

    expectFreshTtl(ttl, env.config);
    expect(await cachedRating(movie.id)).toBe('6');
  });

  it('a fill drops fields the new copy no longer has', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fillMovie(movie);

    await sut.writeThrough({ ...movie, revision: 2, rating: undefined });

    expect(await cachedRating(movie.id)).toBeNull();
  });

  it('treats an incomplete hash as a miss', async () => {
    const movie = apiMovieFactory();
    await env.redis.hset(movieKey(movie.id), 'id', movie.id, 'title', movie.title);

    expect(await sut.readMovie(movie.id)).toEqual({ kind: 'miss' });
  });

  it('reports Redis failures as DependencyUnavailableError', async () => {
    const down = await cacheTestingModule([], { redisUnreachable: true });
    try {
      await expect(down.cache.readMovie(apiMovieFactory().id)).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    } finally {
      await down.module.close();
    }
  });
});
