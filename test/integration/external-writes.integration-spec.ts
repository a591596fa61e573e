import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { ExternalWrites } from '../../src/movies/cache/external-writes';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { NegativeCache } from '../../src/movies/cache/negative-cache';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { absentKey, fenceKey, movieKey, titleKey, titleTag } from '../../src/redis/cache-keys';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { decoded } from '../support/cached-copy';

describe(ExternalWrites.name, () => {
  let env: CacheTestingModule;
  let sut: ExternalWrites;
  let fence: WriteFence;
  let near: NearCache;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.module.get(ExternalWrites);
    fence = env.module.get(WriteFence);
    near = env.module.get(NearCache);
    near.extendLease(performance.now() + 60_000);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    await env.redis.flushdb();
    env.source.reset();
    near.clear();
    near.extendLease(performance.now() + 60_000);
  });

  const titleMap = () => env.module.get<Cache>(CACHE_MANAGER);

  describe('apply', () => {
    it('drops the copy and refuses a fill that began before, whatever the revisions', async () => {
      const movie = apiMovieFactory({ revision: 3 });
      await env.cacheCopy(movie);
      const begun = await fence.current(movie.id);
      env.source.movies.set(movie.id, { ...movie, plot: 'Rewritten by an import' });

      await sut.apply([{ id: movie.id, titles: [] }]);

      expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
      // The other writer did not raise the revision: the fill is refused by generation alone.
      expect(await env.store.fill(movie, begun)).toMatchObject({ kind: 'unfenced' });
      expect(await env.store.fill(movie, await fence.current(movie.id))).toMatchObject({
        kind: 'stored',
      });
    });

    it("forgets the cached copy's old title and the new title's absence and ids", async () => {
      const movie = apiMovieFactory({ title: 'Before', year: 2001 });
      await env.cacheCopy(movie);
      const before = titleTag('Before');
      const after = titleTag('After');
      await titleMap().set(titleKey(before, 2001), movie.id);
      await titleMap().set(titleKey(before), movie.id);
      await env.module.get(NegativeCache).remember(after, undefined, await fence.current(after));
      near.keepTitle(titleKey(before), movie.id, near.titleInvalidationCount());

      await sut.apply([{ id: movie.id, titles: [{ title: 'After', year: 2001 }] }]);

      expect(await titleMap().get(titleKey(before, 2001))).toBeUndefined();
      expect(await titleMap().get(titleKey(before))).toBeUndefined();
      expect(await env.redis.exists(absentKey(after))).toBe(0);
      expect(near.title(titleKey(before))).toBeUndefined();
      expect(await env.redis.get(fenceKey(after))).toMatch(/:1$/);
    });

    it('drops the id from the near-cache', async () => {
      const movie = apiMovieFactory();
      near.keep(movie, 60_000, near.invalidationCount());

      await sut.apply([{ id: movie.id, titles: [] }]);

      expect(near.movie(movie.id)).toBeUndefined();
    });

    it("leaves a copy that is what MongoDB holds alone (the service's own write, come back through the feed): fence, copy, titles and near-cache", async () => {
      const movie = apiMovieFactory({ title: 'Own Write', revision: 4 });
      await env.writeThrough(movie);
      const fenceBefore = await env.redis.get(fenceKey(movie.id));
      await titleMap().set(titleKey(titleTag('Own Write')), movie.id);
      near.keep(movie, 60_000, near.invalidationCount());
      env.source.movies.set(movie.id, movie);

      await sut.apply([{ id: movie.id, titles: [{ title: 'Own Write' }] }]);

      expect(await env.redis.get(fenceKey(movie.id))).toBe(fenceBefore);
      expect(decoded(await env.store.read(movie.id))).toMatchObject({
        kind: 'hit',
        movie,
      });
      expect(await titleMap().get(titleKey(titleTag('Own Write')))).toBe(movie.id);
      expect(near.movie(movie.id)?.hit.movie).toEqual(movie);
    });

    it('resets the fence to the revision MongoDB holds, even a lower one (an import dropped it): the next fill is stored', async () => {
      const movie = apiMovieFactory({ revision: 17 });
      await env.writeThrough(movie);
      const imported = { ...movie, revision: 0, rating: 3 };
      env.source.movies.set(movie.id, imported);

      await sut.apply([{ id: movie.id, titles: [] }]);

      expect(await env.redis.get(fenceKey(movie.id))).toMatch(/:0$/);
      expect(await env.store.fill(imported, await fence.current(movie.id))).toMatchObject({
        kind: 'stored',
      });
    });
  });

  describe('flush', () => {
    it('gives every fence a new generation and drops every copy, absence and title entry', async () => {
      const movies = Array.from({ length: 30 }, () => apiMovieFactory());
      const begun = [];
      for (const movie of movies) {
        await env.cacheCopy(movie);
        begun.push(await fence.current(movie.id));
      }
      await env.redis.set(absentKey('some-id'), '1');
      await titleMap().set(titleKey(titleTag('Any')), movies[0].id);
      near.keep(movies[1], 60_000, near.invalidationCount());

      await sut.flush();

      expect(await env.redis.keys('movie:*')).toEqual([]);
      expect(await env.redis.keys('absent:*')).toEqual([]);
      expect(await env.redis.keys('cm:title:*')).toEqual([]);
      expect(near.movie(movies[1].id)).toBeUndefined();
      for (const [i, movie] of movies.entries())
        expect(await env.store.fill(movie, begun[i])).toMatchObject({ kind: 'unfenced' });
    });
  });
});
