import { status } from '@grpc/grpc-js';
import { ObjectId } from 'bson';
import { movieKey } from '../../src/redis/cache-keys';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { expectFreshTtl } from '../support/ttl';
import { readCopy } from '../support/cached-copy';

describe('UpdateRating (write-through)', () => {
  const alien = movieFactory({ title: 'Alien', year: 1979, rating: 8.4, votes: 700_000 });
  const unrated = movieFactory({ title: 'Never Rated', rating: null });
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '120' }, movies: [alien, unrated] });
  });
  afterAll(() => t.close());

  const stored = async (id: ObjectId) => t.movies.findOne({ _id: id });

  it('writes MongoDB, then the cached copy, so the next read is a hit with the new rating', async () => {
    const id = alien._id.toHexString();
    await t.api.getMovie({ id });

    const updated = await t.api.updateRating({ id, rating: 9.1 });
    const read = await t.api.getMovie({ id });

    expect(updated.cacheRefreshed).toBe(true);
    expect(updated.movie).toMatchObject({ id, rating: 9.1, revision: 1 });
    expect((await stored(alien._id))?.imdb).toMatchObject({ rating: 9.1, votes: 700_000 });
    expect((await stored(alien._id))?.revision).toBe(1);
    expect(read.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(read.movie).toEqual(updated.movie);
  });

  it('installs the new state even when the movie was not cached, and resets the TTL', async () => {
    const id = unrated._id.toHexString();
    await t.redis.del(movieKey(id));

    const updated = await t.api.updateRating({ id, rating: 6 });
    const ttl = await t.redis.ttl(movieKey(id));
    const read = await t.api.getMovie({ id });

    expect(updated.movie?.rating).toBe(6);
    expectFreshTtl(ttl, t.config);
    expect(read.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(read.movie?.rating).toBe(6);
  });

  it('increments revision on every write', async () => {
    const id = alien._id.toHexString();
    const before = (await t.api.getMovie({ id })).movie!.revision;

    await t.api.updateRating({ id, rating: 7 });
    const last = await t.api.updateRating({ id, rating: 7.5 });

    expect(last.movie?.revision).toBe(before + 2);
    expect((await readCopy(t.redis, id))?.revision).toBe(before + 2);
  });

  it('updates by title, resolving it like GetMovie does', async () => {
    const updated = await t.api.updateRating({ title: 'Alien', year: 1979, rating: 8.5 });

    expect(updated.movie?.id).toBe(alien._id.toHexString());
    expect((await t.api.getMovie({ title: 'Alien' })).movie?.rating).toBe(8.5);
  });

  it('accepts the bounds 0 and 10', async () => {
    const id = alien._id.toHexString();
    expect((await t.api.updateRating({ id, rating: 0 })).movie?.rating).toBe(0);
    expect((await t.api.updateRating({ id, rating: 10 })).movie?.rating).toBe(10);
  });

  it.each([
    ['NaN', Number.NaN, 'rating must be a finite number'],
    ['+Infinity', Number.POSITIVE_INFINITY, 'rating must be a finite number'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'rating must be a finite number'],
    ['below 0', -0.1, 'rating must be between 0 and 10'],
    ['above 10', 10.01, 'rating must be between 0 and 10'],
  ])(
    'answers INVALID_ARGUMENT for a rating %s and writes nothing',
    async (_case, rating, message) => {
      const before = await stored(alien._id);

      await expect(
        t.api.updateRating({ id: alien._id.toHexString(), rating }),
      ).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: message,
      });
      expect(await stored(alien._id)).toEqual(before);
    },
  );

  it.each([
    ['neither id nor title', { rating: 5 }, status.INVALID_ARGUMENT],
    [
      'both id and title',
      { id: alien._id.toHexString(), title: 'Alien', rating: 5 },
      status.INVALID_ARGUMENT,
    ],
    ['a malformed id', { id: '12345', rating: 5 }, status.INVALID_ARGUMENT],
    ['an unknown id', { id: new ObjectId().toHexString(), rating: 5 }, status.NOT_FOUND],
    ['an unknown title', { title: 'Nothing Like It', rating: 5 }, status.NOT_FOUND],
  ])('answers the documented status for %s', async (_case, request, code) => {
    await expect(t.api.updateRating(request)).rejects.toMatchObject({ code });
  });
});
