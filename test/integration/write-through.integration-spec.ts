import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { WriteThroughHandler } from '../../src/movies/cache/write-through.handler';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expectFreshTtl } from '../support/ttl';

/** MongoDB's side is not what is under test: a repository double answering like the real one. */
class RepositoryDouble {
  next: Movie | null | Error = null;
  updates: Array<[string, number]> = [];
  async updateRating(id: string, rating: number): Promise<Movie | null> {
    this.updates.push([id, rating]);
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

describe(WriteThroughHandler.name, () => {
  let env: CacheTestingModule;
  let repository: RepositoryDouble;
  let sut: WriteThroughHandler;

  beforeAll(async () => {
    env = await cacheTestingModule([
      WriteThroughHandler,
      { provide: MoviesRepository, useClass: RepositoryDouble },
    ]);
    repository = env.module.get(MoviesRepository);
    sut = env.module.get(WriteThroughHandler);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  it('writes MongoDB first, then installs the stored movie in the cache with a fresh TTL', async () => {
    const before = apiMovieFactory({ revision: 3, rating: 4 });
    await env.store.fill(before);
    await env.redis.expire(movieKey(before.id), 2);
    repository.next = { ...before, revision: 4, rating: 8 };

    const result = await sut.updateRating(before.id, 8);

    expect(repository.updates).toContainEqual([before.id, 8]);
    expect(result).toEqual({ movie: repository.next, cacheRefreshed: true });
    expect(await env.store.read(before.id)).toEqual({ kind: 'hit', movie: repository.next });
    expectFreshTtl(await env.redis.ttl(movieKey(before.id)), env.config);
  });

  it('leaves the cache untouched when the MongoDB write fails', async () => {
    const cached = apiMovieFactory({ revision: 1, rating: 5 });
    await env.store.fill(cached);
    repository.next = new DependencyUnavailableError('MongoDB');

    await expect(sut.updateRating(cached.id, 9)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await env.store.read(cached.id)).toEqual({ kind: 'hit', movie: cached });
  });

  it('answers NOT_FOUND and caches nothing when MongoDB has no such movie', async () => {
    repository.next = null;
    const id = apiMovieFactory().id;

    await expect(sut.updateRating(id, 9)).rejects.toBeInstanceOf(MovieNotFoundError);
    expect(await env.redis.exists(movieKey(id))).toBe(0);
  });
});

describe(`${WriteThroughHandler.name} without Redis`, () => {
  it('keeps the MongoDB write and reports the cache as not refreshed', async () => {
    const env = await cacheTestingModule(
      [WriteThroughHandler, { provide: MoviesRepository, useClass: RepositoryDouble }],
      { redisUnreachable: true },
    );
    try {
      const repository = env.module.get<RepositoryDouble>(MoviesRepository);
      repository.next = apiMovieFactory({ revision: 2, rating: 3 });

      const result = await env.module.get(WriteThroughHandler).updateRating(repository.next.id, 3);

      expect(result).toEqual({ movie: repository.next, cacheRefreshed: false });
    } finally {
      await env.module.close();
    }
  });
});
