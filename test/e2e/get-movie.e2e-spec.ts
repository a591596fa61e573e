import { CacheCounters } from '../../src/movies/cache/cache-counters';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { status } from '@grpc/grpc-js';
import { ObjectId } from 'bson';
import {
  STATS_HITS_KEY,
  STATS_MISSES_KEY,
  movieKey,
  titleKey,
  titleTag,
} from '../../src/redis/cache-keys';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { expectFreshTtl } from '../support/ttl';
import { sleep, until } from '../support/wait';
import { readCopy } from '../support/cached-copy';

describe('GetMovie (cache-aside)', () => {
  const heat = movieFactory({
    title: 'Heat',
    year: 1995,
    rating: 8.3,
    votes: 500_000,
    genres: ['Crime'],
  });
  const heatRemake = movieFactory({ title: 'Heat', year: 1986, rating: 5.4, votes: 9_000 });
  const heatLeastVotes = movieFactory({ title: 'Heat', year: 2013, rating: 4.1, votes: 200 });
  const unrated = movieFactory({ title: 'Unrated', rating: '', votes: '' });
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ movies: [heat, heatRemake, heatLeastVotes, unrated] });
  });
  afterAll(() => t.close());

  it('misses first, then hits from Redis with the same movie', async () => {
    const id = heat._id.toHexString();
    const first = await t.api.getMovie({ id });
    const second = await t.api.getMovie({ id });

    expect(first.cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
    expect(second.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(first.movie).toEqual({
      id,
      title: 'Heat',
      year: 1995,
      plot: heat.plot,
      rating: 8.3,
      imdbVotes: 500_000,
      genres: ['Crime'],
      directors: heat.directors,
      cast: heat.cast,
      runtimeMinutes: heat.runtime,
      revision: 0,
    });
    expect(second.movie).toEqual(first.movie);
  });

  it('stores the movie encoded as its response sends it, behind a header, fresh for the configured TTL and kept for grace', async () => {
    const id = heatRemake._id.toHexString();
    await t.api.getMovie({ id });

    const value = await t.redis.getBuffer(movieKey(id));
    const ttl = await t.redis.ttl(movieKey(id));

    expect(value?.toString('latin1', 0, value.indexOf(10))).toMatch(/^v2 0 \d+ \d+$/);
    expect(await readCopy(t.redis, id)).toMatchObject({
      id,
      title: 'Heat',
      year: 1986,
      rating: 5.4,
      imdbVotes: 9000,
      revision: 0,
      genres: heatRemake.genres,
      cast: heatRemake.cast,
    });
    expectFreshTtl(ttl, t.config);
  });

  it('counts hits and misses in Redis strings, flushed from the process in batches', async () => {
    const counters = t.app.get(CacheCounters);
    await counters.flush();
    await t.redis.del(STATS_HITS_KEY, STATS_MISSES_KEY);
    const id = heatLeastVotes._id.toHexString();
    await t.redis.del(movieKey(id));
    t.app.get(NearCache).invalidate(id);

    await t.api.getMovie({ id });
    await t.api.getMovie({ id });
    await t.api.getMovie({ id });

    await until(
      async () => (await t.redis.mget(STATS_HITS_KEY, STATS_MISSES_KEY)).join() === '2,1',
    );
  });

  it('resolves a duplicate title to the movie with the most votes, and a repeated title lookup is a hit', async () => {
    await t.redis.del(movieKey(heat._id.toHexString()));

    const first = await t.api.getMovie({ title: 'Heat' });
    const second = await t.api.getMovie({ title: 'Heat' });

    expect(first.movie?.id).toBe(heat._id.toHexString());
    expect(first.cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
    expect(second.movie?.id).toBe(heat._id.toHexString());
    expect(second.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(await t.redis.exists(`cm:${titleKey(titleTag('Heat'))}`)).toBe(1);
  });

  it('narrows a title lookup by year', async () => {
    const response = await t.api.getMovie({ title: 'Heat', year: 2013 });

    expect(response.movie?.id).toBe(heatLeastVotes._id.toHexString());
    expect(response.movie?.rating).toBe(4.1);
  });

  it('returns a movie whose source rating is "" without a rating', async () => {
    const response = await t.api.getMovie({ title: 'Unrated' });
    const cached = await t.api.getMovie({ title: 'Unrated' });

    expect(response.movie?.rating).toBeUndefined();
    expect(response.movie?.imdbVotes).toBe(0);
    expect(cached.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    expect(cached.movie?.rating).toBeUndefined();
  });

  it.each([
    ['an unknown id', { id: new ObjectId().toHexString() }],
    ['an unknown title', { title: 'No Such Movie' }],
    ['a known title in another year', { title: 'Heat', year: 1950 }],
  ])('answers NOT_FOUND for %s', async (_case, request) => {
    await expect(t.api.getMovie(request)).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it.each([
    ['neither id nor title', {}, 'id or title is required'],
    ['both id and title', { id: heat._id.toHexString(), title: 'Heat' }, 'exclusive'],
    [
      'a malformed id',
      { id: 'not-an-object-id' },
      'id must be a 24-character hexadecimal ObjectId',
    ],
    ['a 25-character id', { id: 'a'.repeat(25) }, 'id must be'],
    ['an over-long title', { title: 'x'.repeat(257) }, 'title must be at most 256 characters'],
    [
      'a title with control characters',
      { title: 'Heat\u0000' },
      'title must not contain control characters',
    ],
    [
      'a year with an id',
      { id: heat._id.toHexString(), year: 1995 },
      'year only narrows a title lookup',
    ],
    ['an impossible year', { title: 'Heat', year: 99999 }, 'year must be'],
  ])('answers INVALID_ARGUMENT for %s, naming the field', async (_case, request, message) => {
    await expect(t.api.getMovie(request)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining(message),
    });
  });

  it('keeps serving after bad requests', async () => {
    await expect(t.api.getMovie({ id: 'bad' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    const response = await t.api.getMovie({ id: heat._id.toHexString() });
    expect(response.movie?.title).toBe('Heat');
  });
});

describe('GetMovie TTL expiry', () => {
  const movie = movieFactory({ title: 'Short Lived' });
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '1' }, movies: [movie] });
  });
  afterAll(() => t.close());

  it('reads MongoDB again once the cached copy has expired', async () => {
    const id = movie._id.toHexString();
    const statuses = [
      (await t.api.getMovie({ id })).cacheStatus,
      (await t.api.getMovie({ id })).cacheStatus,
    ];
    await sleep(2_100);
    statuses.push((await t.api.getMovie({ id })).cacheStatus);

    expect(statuses).toEqual([
      CacheStatus.CACHE_STATUS_MISS,
      CacheStatus.CACHE_STATUS_HIT,
      CacheStatus.CACHE_STATUS_MISS,
    ]);
  });
});
