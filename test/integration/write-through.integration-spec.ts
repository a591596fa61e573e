import { Logger } from '@nestjs/common';
import { DependencyUnavailableError, MovieNotFoundError } from '../../src/common/errors';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { WriteThroughHandler } from '../../src/movies/cache/write-through.handler';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { NegativeCache } from '../../src/movies/cache/negative-cache';
import { DirtyIds } from '../../src/movies/cache/dirty-ids';
import { absentKey, fenceKey, movieKey, titleTag } from '../../src/redis/cache-keys';
import { ReplicaAck } from '../../src/redis/replica-ack';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expectFreshTtl } from '../support/ttl';
import { until } from '../support/wait';

/** MongoDB's side is not what is under test: a repository double answering like the real one. */
class RepositoryDouble {
  next: Movie | null | Error = null;
  updates: Array<[string, number]> = [];
  /** Called as MongoDB is written, to see what the cache held at that moment. */
  onUpdate: () => Promise<void> = () => Promise.resolve();
  async updateRating(id: string, rating: number): Promise<Movie | null> {
    this.updates.push([id, rating]);
    await this.onUpdate();
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

/**
 * Replication is not what is under test (replica-ack's spec runs it on a cluster): a double
 * answering whether the slot's replica confirmed, and counting the waits.
 */
class ReplicasDouble {
  confirmed = true;
  waits: string[] = [];
  confirm(key: string): Promise<boolean> {
    this.waits.push(key);
    return Promise.resolve(this.confirmed);
  }
}

describe(WriteThroughHandler.name, () => {
  let env: CacheTestingModule;
  let repository: RepositoryDouble;
  const replicas = new ReplicasDouble();
  let sut: WriteThroughHandler;
  let warnings: jest.SpyInstance;

  beforeAll(async () => {
    env = await cacheTestingModule([
      WriteThroughHandler,
      { provide: MoviesRepository, useClass: RepositoryDouble },
      { provide: ReplicaAck, useValue: replicas },
    ]);
    repository = env.module.get(MoviesRepository);
    sut = env.module.get(WriteThroughHandler);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    await env.redis.flushdb();
    repository.onUpdate = () => Promise.resolve();
    replicas.confirmed = true;
    replicas.waits = [];
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warnings.mockRestore());
  const fill = (movie: Movie) => env.cacheCopy(movie);

  it('writes MongoDB first, then installs the stored movie in the cache with a fresh TTL', async () => {
    const before = apiMovieFactory({ revision: 3, rating: 4 });
    await fill(before);
    await env.redis.expire(movieKey(before.id), 2);
    repository.next = { ...before, revision: 4, rating: 8 };
    let cachedDuringMongoWrite: unknown;
    repository.onUpdate = async () => {
      cachedDuringMongoWrite = await env.store.read(before.id);
    };

    const result = await sut.updateRating(before.id, 8);

    expect(repository.updates).toContainEqual([before.id, 8]);
    expect(cachedDuringMongoWrite).toEqual({
      kind: 'hit',
      movie: before,
      ttlMs: expect.any(Number),
      fenced: false,
    });
    expect(result).toEqual({ movie: repository.next, cacheRefreshed: true });
    expect(await env.store.read(before.id)).toEqual({
      kind: 'hit',
      movie: repository.next,
      ttlMs: expect.any(Number),
      fenced: false,
    });
    expectFreshTtl(await env.redis.ttl(movieKey(before.id)), env.config);
    // The replica confirmed: nothing is left to repair, and nothing to warn about.
    expect(replicas.waits).toEqual([fenceKey(before.id)]);
    expect(env.module.get(DirtyIds).has(before.id)).toBe(false);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('marks the id dirty when the replica of its slot does not confirm the write (a failover could lose it)', async () => {
    const movie = apiMovieFactory({ revision: 2 });
    repository.next = movie;
    replicas.confirmed = false;
    const dirty = env.module.get(DirtyIds);

    const result = await sut.updateRating(movie.id, 6);

    expect(result).toEqual({ movie, cacheRefreshed: true });
    expect(dirty.has(movie.id)).toBe(true);
    await until(async () => !dirty.has(movie.id)); // repaired while Redis answers
  });

  it('installs the copy of an id already marked dirty without waiting for a replica; its repair clears the mark', async () => {
    const movie = apiMovieFactory({ revision: 5 });
    repository.next = movie;
    const dirty = env.module.get(DirtyIds);
    dirty.mark(movie.id);

    const result = await sut.updateRating(movie.id, 6);

    expect(result).toEqual({ movie, cacheRefreshed: true });
    expect(replicas.waits).toEqual([]);
    await until(async () => !dirty.has(movie.id)); // and the repair it asked for ran
  });

  it('leaves the cache untouched when the MongoDB write fails', async () => {
    const cached = apiMovieFactory({ revision: 1, rating: 5 });
    await fill(cached);
    repository.next = new DependencyUnavailableError('MongoDB');

    await expect(sut.updateRating(cached.id, 9)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await env.store.read(cached.id)).toEqual({
      kind: 'hit',
      movie: cached,
      ttlMs: expect.any(Number),
      fenced: false,
    });
  });

  it('raises the fences and forgets the absences of the id and of the title, with and without year', async () => {
    const movie = apiMovieFactory({ title: 'Once Absent', year: 1999, revision: 7 });
    const negative = env.module.get(NegativeCache);
    const tag = titleTag(movie.title);
    for (const [key, year] of [[movie.id], [tag], [tag, 1999]] as Array<[string, number?]>) {
      expect(
        await negative.remember(key, year, await env.module.get(WriteFence).current(key)),
      ).toBe(true);
    }
    const titleFence = await env.redis.get(fenceKey(tag));
    repository.next = movie;

    await sut.updateRating(movie.id, 5);

    expect(await env.redis.exists(absentKey(movie.id), absentKey(tag), absentKey(tag, 1999))).toBe(
      0,
    );
    expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:7$/);
    expect(await env.redis.get(fenceKey(tag))).not.toBe(titleFence);
  });

  it('answers NOT_FOUND and caches nothing when MongoDB has no such movie', async () => {
    repository.next = null;
    const id = apiMovieFactory().id;

    const failure = sut.updateRating(id, 9);
    await expect(failure).rejects.toBeInstanceOf(MovieNotFoundError);
    await expect(failure).rejects.toThrow(id); // the client's message names the movie
    expect(await env.redis.exists(movieKey(id))).toBe(0);
  });
});

describe(`${WriteThroughHandler.name} without Redis`, () => {
  it('keeps the MongoDB write, reports the cache as not refreshed, and warns the operator', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const env = await cacheTestingModule(
      [WriteThroughHandler, { provide: MoviesRepository, useClass: RepositoryDouble }],
      { redisUnreachable: true },
    );
    try {
      const repository = env.module.get<RepositoryDouble>(MoviesRepository);
      repository.next = apiMovieFactory({ revision: 2, rating: 3 });

      const result = await env.module.get(WriteThroughHandler).updateRating(repository.next.id, 3);

      expect(result).toEqual({ movie: repository.next, cacheRefreshed: false });
      // Read from MongoDB until its copy is repaired, once Redis answers.
      expect(env.module.get(DirtyIds).has(repository.next.id)).toBe(true);
      expect(warnings).toHaveBeenCalledWith(
        `movie ${repository.next.id} revision 2 saved, cache not refreshed: Redis unavailable`,
      );
    } finally {
      warnings.mockRestore();
      await env.module.close();
    }
  });
});
