import { Logger } from '@nestjs/common';
import {
  DependencyUnavailableError,
  MovieNotFoundError,
  WriteNotSavedError,
} from '../../src/common/errors';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { WriteThroughHandler } from '../../src/movies/cache/write-through.handler';
import { MoviesRepository } from '../../src/movies/movies.repository';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { NegativeCache } from '../../src/movies/cache/negative-cache';
import { absentKey, fenceKey, movieKey, titleTag } from '../../src/redis/cache-keys';
import { ReplicaAck } from '../../src/redis/replica-ack';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { expectFreshTtl } from '../support/ttl';
import { until } from '../support/wait';
import { decoded } from '../support/cached-copy';

/** MongoDB's side is not what is under test: a repository double answering like the real one. */
class RepositoryDouble {
  next: Movie | null | Error = null;
  unavailable = false;
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
    repository.updates = [];
    replicas.confirmed = true;
    replicas.waits = [];
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warnings.mockRestore());
  const fill = (movie: Movie) => env.cacheCopy(movie);

  /** What a miss of `id` would find and do now: the Redis copy, and whether its fill may store. */
  const missNow = async (id: string, movie: Movie) => {
    const ticket = await env.module.get(WriteFence).begin(id, undefined, false);
    return { pending: ticket.pending, fill: (await env.store.fill(movie, ticket.fence)).kind };
  };

  it('drops every copy and holds the fence pending before MongoDB is written; then installs the stored movie with a fresh TTL', async () => {
    const before = apiMovieFactory({ revision: 3, rating: 4 });
    await fill(before);
    await env.redis.expire(movieKey(before.id), 2);
    repository.next = { ...before, revision: 4, rating: 8 };
    let duringMongoWrite: unknown;
    repository.onUpdate = async () => {
      duringMongoWrite = {
        cached: (await env.store.read(before.id)).kind,
        ...(await missNow(before.id, before)),
      };
    };

    const result = await sut.updateRating(before.id, 8);

    expect(repository.updates).toContainEqual([before.id, 8]);
    expect(duringMongoWrite).toEqual({ cached: 'miss', pending: true, fill: 'pending' });
    expect(result).toEqual({ movie: repository.next, cacheRefreshed: true });
    expect(decoded(await env.store.read(before.id))).toEqual({
      kind: 'hit',
      movie: repository.next,
      ttlMs: expect.any(Number),
      unsettled: true, // its fence was made (Redis was empty) within the write window
    });
    expectFreshTtl(await env.redis.ttl(movieKey(before.id)), env.config);
    // The pending fence was confirmed by the replica before MongoDB was written.
    expect(replicas.waits).toEqual([fenceKey(before.id)]);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('writes nothing when no replica confirms the pending fence: UNAVAILABLE, after retrying for its budget', async () => {
    const movie = apiMovieFactory({ revision: 2 });
    repository.next = movie;
    replicas.confirmed = false;

    await expect(sut.updateRating(movie.id, 6)).rejects.toBeInstanceOf(WriteNotSavedError);
    expect(repository.updates).toEqual([]);
    expect(replicas.waits.length).toBeGreaterThan(1);
  });

  it('when MongoDB fails the write may still land: the copy stays dropped and the fence pending', async () => {
    const cached = apiMovieFactory({ revision: 1, rating: 5 });
    await fill(cached);
    repository.next = new DependencyUnavailableError('MongoDB');

    await expect(sut.updateRating(cached.id, 9)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await env.store.read(cached.id)).toEqual({ kind: 'miss' });
    expect(await missNow(cached.id, cached)).toEqual({ pending: true, fill: 'pending' });
  });

  it.each([
    ['the later write saved the newer revision', 3, true],
    ['the later write saved the older revision', 1, false],
  ])(
    'two writes at once, %s: the first to end installs nothing (the other is pending); the last installs only the newest',
    async (_, lastRevisionOffset, lastInstalls) => {
      const movie = apiMovieFactory({ revision: 1, rating: 5 });
      await fill(movie);
      const gates: Array<() => void> = [];
      repository.onUpdate = () => new Promise<void>((resolve) => gates.push(resolve));
      repository.next = { ...movie, revision: 3, rating: 6 };
      const first = sut.updateRating(movie.id, 6);
      await until(async () => gates.length === 1);
      const second = sut.updateRating(movie.id, 7);
      await until(async () => gates.length === 2);

      gates[0]();
      expect((await first).cacheRefreshed).toBe(false);
      expect(await env.store.read(movie.id)).toEqual({ kind: 'miss' });
      repository.next = { ...movie, revision: 1 + lastRevisionOffset, rating: 7 };
      gates[1]();

      expect((await second).cacheRefreshed).toBe(lastInstalls);
      const cached = decoded(await env.store.read(movie.id));
      expect(cached.kind === 'hit' ? cached.movie.revision : 'miss').toBe(
        lastInstalls ? 4 : 'miss',
      );
    },
  );

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

  it('answers NOT_FOUND and caches nothing when MongoDB has no such movie; the fence is left, not pending', async () => {
    repository.next = null;
    const movie = apiMovieFactory();

    const failure = sut.updateRating(movie.id, 9);
    await expect(failure).rejects.toBeInstanceOf(MovieNotFoundError);
    await expect(failure).rejects.toThrow(movie.id); // the client's message names the movie
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
    expect(await missNow(movie.id, movie)).toEqual({ pending: false, fill: 'stored' });
  });
});

describe(`${WriteThroughHandler.name} without Redis`, () => {
  it('writes nothing to MongoDB (the write could not be fenced), answers UNAVAILABLE, and warns the operator', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const env = await cacheTestingModule(
      [WriteThroughHandler, { provide: MoviesRepository, useClass: RepositoryDouble }],
      { redisUnreachable: true },
    );
    try {
      const repository = env.module.get<RepositoryDouble>(MoviesRepository);
      repository.next = apiMovieFactory({ revision: 2, rating: 3 });

      const failure = env.module.get(WriteThroughHandler).updateRating(repository.next.id, 3);

      await expect(failure).rejects.toBeInstanceOf(WriteNotSavedError);
      await expect(failure).rejects.toThrow(/not saved/);
      expect(repository.updates).toEqual([]);
      expect(warnings).toHaveBeenCalledWith(
        `movie ${repository.next.id}: rating not saved, Redis could not fence the write`,
      );
    } finally {
      warnings.mockRestore();
      await env.module.close();
    }
  });
});
