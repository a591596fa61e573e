import { DependencyUnavailableError } from '../../src/common/errors';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { MovieCacheStore } from '../../src/movies/cache/movie-cache.store';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { decoded, readCopy } from '../support/cached-copy';
import { expectFreshTtl } from '../support/ttl';

describe(MovieCacheStore.name, () => {
  let env: CacheTestingModule;
  let sut: MovieCacheStore;
  /** The fence a miss of this id sees before it reads MongoDB. */
  let fenceOf: (id: string) => Promise<string>;
  let fence: WriteFence;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.store;
    fence = env.module.get(WriteFence);
    fenceOf = (id) => fence.current(id);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const cachedRating = async (id: string) => (await readCopy(env.redis, id))?.rating;

  it('talks RESP3 to Redis (ioredis 6 negotiates it), so every script below runs on its replies', async () => {
    expect(await env.redis.client('INFO')).toMatch(/\bresp=3\b/);
  });

  it('round-trips a movie through its hash, with and without a rating', async () => {
    const rated = apiMovieFactory({ genres: ['Sci-Fi', 'Ação'], cast: ['"Quoted" Name'] });
    const unrated = apiMovieFactory({ rating: undefined, genres: [] });
    await sut.fill(rated, await fenceOf(rated.id));
    await sut.fill(unrated, await fenceOf(unrated.id));

    expect(decoded(await sut.read(rated.id))).toEqual({
      kind: 'hit',
      movie: rated,
      ttlMs: expect.any(Number),
      unsettled: true, // filled right after its first fence was made
    });
    expect(decoded(await sut.read(unrated.id))).toEqual({
      kind: 'hit',
      movie: unrated,
      ttlMs: expect.any(Number),
      unsettled: true,
    });
  });

  it('a fill never replaces a newer cached revision, and answers with it', async () => {
    const current = apiMovieFactory({ revision: 5, rating: 9 });
    const fence = await fenceOf(current.id);
    await sut.fill({ ...current, revision: 3 }, fence);
    await env.writeThrough(current);

    const older = await sut.fill({ ...current, revision: 4, rating: 1 }, fence);

    expect(older).toEqual({ kind: 'cached', movie: current });
    expect(await cachedRating(current.id)).toBe(9);
  });

  it('a fill of the cached revision stores it again with a fresh TTL (a refresh)', async () => {
    const movie = apiMovieFactory({ revision: 2 });
    const fence = await fenceOf(movie.id);
    await sut.fill(movie, fence);
    await env.redis.expire(movieKey(movie.id), 5);

    expect(await sut.fill(movie, fence)).toMatchObject({ kind: 'stored' });
    expectFreshTtl(await env.redis.ttl(movieKey(movie.id)), env.config);
  });

  it('refuses a fill begun before a write, and one older than it begun after, even once the copy is gone', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    const before = await fenceOf(movie.id);
    await env.writeThrough({ ...movie, revision: 2, rating: 6 });
    await env.redis.del(movieKey(movie.id));

    expect(await sut.fill(movie, before)).toEqual({ kind: 'unfenced' });
    const after = await fenceOf(movie.id);
    expect(await sut.fill(movie, after)).toEqual({ kind: 'fenced' });
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
    expect(await sut.fill({ ...movie, revision: 2, rating: 6 }, after)).toMatchObject({
      kind: 'stored',
    });
  });

  it('refuses a fill whose fence was lost, or replaced by a new generation, since the miss began', async () => {
    const movie = apiMovieFactory({ revision: 1 });
    const fence = await fenceOf(movie.id);
    await env.redis.del(fenceKey(movie.id));

    expect(await sut.fill(movie, fence)).toEqual({ kind: 'unfenced' });
    const renewed = await fenceOf(movie.id);
    expect(renewed).not.toBe(fence);
    expect(await sut.fill(movie, fence)).toEqual({ kind: 'unfenced' });
    expect(await sut.fill(movie, renewed)).toMatchObject({ kind: 'stored' });
  });

  it('a write-through replaces older and equal revisions and resets the TTL; a late older write drops the copy', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fill(movie, await fenceOf(movie.id));
    await env.redis.expire(movieKey(movie.id), 3);

    expect(await env.writeThrough({ ...movie, revision: 2, rating: 6 })).toBe(true);
    expectFreshTtl(await env.redis.ttl(movieKey(movie.id)), env.config);
    expect(await cachedRating(movie.id)).toBe(6);

    expect(await env.writeThrough({ ...movie, revision: 1, rating: 1 })).toBe(false);
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
    expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:2$/);
    const fence = await fenceOf(movie.id);
    expect(await sut.fill({ ...movie, revision: 1, rating: 1 }, fence)).toEqual({
      kind: 'fenced',
    });
    expect(await sut.fill({ ...movie, revision: 2, rating: 6 }, fence)).toMatchObject({
      kind: 'stored',
    });
  });

  it('a late write-through of an older revision installs nothing once the newer copy was evicted', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await env.writeThrough({ ...movie, revision: 3, rating: 7 });
    await env.redis.del(movieKey(movie.id)); // evicted; its fence remembers revision 3

    await env.writeThrough({ ...movie, revision: 2, rating: 6 });

    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
    expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:3$/);
  });

  it('a write-through of a movie never cached installs it', async () => {
    const movie = apiMovieFactory({ revision: 4, rating: 1 });

    expect(await env.writeThrough(movie)).toBe(true);

    expect(await cachedRating(movie.id)).toBe(1);
  });

  it('while a write is pending a miss is told so, takes no lease, and its fill is refused; the write ending lets the next one store', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fill(movie, await fenceOf(movie.id));
    const began = await fence.beginWrite(movie.id, 'w1');

    expect(await sut.read(movie.id)).toEqual({ kind: 'miss' });
    const during = await fence.begin(movie.id);
    expect(during).toMatchObject({ lease: null, pending: true });
    expect(await sut.fill(movie, during.fence)).toEqual({ kind: 'pending' });

    expect(await sut.endWrite(movie.id, began, 'w1', { ...movie, revision: 2, rating: 6 })).toBe(
      true,
    );
    expect(await sut.fill(movie, during.fence)).toMatchObject({
      kind: 'cached',
      movie: { revision: 2 },
    });
    expect(await cachedRating(movie.id)).toBe(6);
  });

  it.each([
    ['lost with the copy', (id: string) => env.redis.del(movieKey(id), fenceKey(id))],
    [
      'lost, then begun again by a miss',
      async (id: string) => {
        await env.redis.del(movieKey(id), fenceKey(id));
        await fenceOf(id);
      },
    ],
    [
      'regenerated by a repair (a write made outside the service)',
      async (id: string) => void (await fence.repair(id)),
    ],
  ])(
    'a write whose fence was %s while MongoDB saved it installs nothing, and drops the copy',
    async (_, lose) => {
      const movie = apiMovieFactory({ revision: 1, rating: 5 });
      const began = await fence.beginWrite(movie.id, 'w1');
      await lose(movie.id);

      expect(await sut.endWrite(movie.id, began, 'w1', { ...movie, revision: 2, rating: 6 })).toBe(
        false,
      );

      expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
      expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:2$/);
      // The next miss reads MongoDB (revision 2 there) and its fill is stored.
      expect(
        await sut.fill({ ...movie, revision: 2, rating: 6 }, await fenceOf(movie.id)),
      ).toMatchObject({ kind: 'stored' });
    },
  );

  it('the fence lost while a write runs: an older copy filled meanwhile is dropped by the first answer of the new one, and never stored after it', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await fence.beginWrite(movie.id, 'w1');
    await env.redis.del(fenceKey(movie.id));
    const early = await fenceOf(movie.id); // a miss reads revision 1 before MongoDB saves 2
    const late = await fenceOf(movie.id); // another reads revision 2 after
    expect(await sut.fill(movie, early)).toMatchObject({ kind: 'stored', unsettled: true });
    await env.redis.del(fenceKey(movie.id)); // lost again: the second fill is refused

    expect(await sut.fill({ ...movie, revision: 2, rating: 6 }, late)).toEqual({
      kind: 'unfenced',
    });

    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
    expect(await sut.fill(movie, await fenceOf(movie.id))).toEqual({ kind: 'fenced' });
  });

  it('a copy filled soon after its fence was made (lost or new) is unsettled for the write window; one under an older fence is not', async () => {
    const movie = apiMovieFactory({ revision: 1 });
    const made = await fenceOf(movie.id);
    expect(await sut.fill(movie, made)).toMatchObject({ kind: 'stored', unsettled: true });
    expect(decoded(await sut.read(movie.id))).toMatchObject({
      kind: 'hit',
      unsettled: true,
    });

    const [generation, revision] = made.split(':');
    const settled = `${generation.replace(/@\d+$/, '@1')}:${revision}`;
    await env.redis.set(fenceKey(movie.id), settled);
    expect(await sut.fill(movie, settled)).toMatchObject({ kind: 'stored', unsettled: false });
    expect(decoded(await sut.read(movie.id))).toMatchObject({
      kind: 'hit',
      unsettled: false,
    });
  });

  it('a write-through drops fields the new copy no longer has', async () => {
    const movie = apiMovieFactory({ revision: 1, rating: 5 });
    await sut.fill(movie, await fenceOf(movie.id));

    await env.writeThrough({ ...movie, revision: 2, rating: undefined });

    expect(await cachedRating(movie.id)).toBeUndefined();
  });

  it('treats an incomplete hash as a miss', async () => {
    const movie = apiMovieFactory();
    await env.redis.set(movieKey(movie.id), 'v2 1 0 0\nnot a movie');

    expect(await sut.read(movie.id)).toEqual({ kind: 'miss' });
  });

  it('evicts every copy of a key space of whole DEL batches, and nothing else', async () => {
    const movies = Array.from({ length: 2_000 }, () => apiMovieFactory());
    const kept = apiMovieFactory();
    for (const movie of [...movies, kept]) await sut.fill(movie, await fenceOf(movie.id));

    await sut.evict(movies.map((m) => m.id));

    // Key by key: on a Redis Cluster the copies live on several nodes.
    const exists = await Promise.all(
      [...movies, kept].map(async ({ id }) => [id, await env.redis.exists(movieKey(id))] as const),
    );
    expect(exists.filter(([, found]) => found === 1).map(([id]) => id)).toEqual([kept.id]);
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
