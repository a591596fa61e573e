import { status } from '@grpc/grpc-js';
import { TRENDING_ALL_KEY, TRENDING_TITLES_KEY, absentKey } from '../../src/redis/cache-keys';
import type { StreamTrendingResponse } from '../../src/generated/client/movies/v1/movie_service';
import { LeaderboardProvider } from '../../src/trending/leaderboard.provider';
import { movieFactory } from '../factories/movie.factory';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

// One client opens many streams here: the per-peer cap has its own spec (trending-admission).
const TREND_ENV = {
  TRENDING_BUCKET_SECONDS: '1',
  VIEW_FLUSH_MS: '50',
  TRENDING_MAX_STREAMS_PER_PEER: '1000',
};

describe('StreamTrending', () => {
  // ObjectIds chosen so that tie order (by id) is known.
  const movies = ['aa', 'bb', 'cc', 'dd', 'ee'].map((p) =>
    movieFactory({ title: `Trend ${p}`, _id: undefined }),
  );
  const [a, b, c, d, e] = movies.sort((x, y) =>
    x._id.toHexString() < y._id.toHexString() ? -1 : 1,
  );
  let t: TestApp;
  const readers: SnapshotReader<StreamTrendingResponse>[] = [];

  const open = (request: Parameters<TestApp['api']['streamTrending']>[0]) => {
    const reader = new SnapshotReader(t.api.streamTrending(request));
    readers.push(reader);
    return reader;
  };
  const view = async (movie: (typeof movies)[number], times: number) => {
    for (let i = 0; i < times; i += 1) await t.api.getMovie({ id: movie._id.toHexString() });
  };
  const openStreams = async () => (await t.api.getCacheStats()).trendingStreams;
  const waitForOpenStreams = async (count: number) => {
    const deadline = Date.now() + 5_000;
    while ((await openStreams()) !== count) {
      if (Date.now() > deadline) throw new Error(`open streams never reached ${count}`);
      await sleep(25);
    }
  };

  beforeAll(async () => {
    t = await startTestApp({ env: TREND_ENV, movies });
  });
  afterEach(async () => {
    readers.splice(0).forEach((r) => r.cancel());
    await waitForOpenStreams(0);
    // Write out views still buffered, so none lands in the next test after the flush.
    await t.app.get(LeaderboardProvider).flush();
    await t.redis.flushdb();
  });
  afterAll(() => t.close());

  it('sends the first snapshot at once, even with a long interval', async () => {
    const started = Date.now();
    const reader = open({ intervalMs: 60_000 });

    const first = await reader.waitFor(() => true, 2_000);

    expect(first.entries).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(first.generatedAtUnixMs).toBeGreaterThanOrEqual(started - 1_000);
  });

  it('ranks views made through GetMovie with exact counts, ties by movie id', async () => {
    const reader = open({ intervalMs: 100 });
    await reader.waitFor(() => true);

    await view(c, 2);
    await view(b, 5);
    await view(a, 2);
    await view(e, 1);
    await view(d, 3);
    await t.api.getMovie({ title: `${b.title}` });

    const snapshot = await reader.waitFor(
      (m) => m.entries.length === 5 && m.entries[0].views === 6,
    );
    expect(snapshot.entries).toEqual([
      { rank: 1, movieId: b._id.toHexString(), title: b.title, views: 6 },
      { rank: 2, movieId: d._id.toHexString(), title: d.title, views: 3 },
      { rank: 3, movieId: a._id.toHexString(), title: a.title, views: 2 },
      { rank: 4, movieId: c._id.toHexString(), title: c.title, views: 2 },
      { rank: 5, movieId: e._id.toHexString(), title: e.title, views: 1 },
    ]);
  });

  it('cuts the ranking to the limit, keeping tie order at the boundary', async () => {
    await view(e, 1);
    await view(d, 1);
    await view(c, 1);
    await view(a, 2);
    await t.app.get(LeaderboardProvider).flush();
    const reader = open({ limit: 2, intervalMs: 100 });

    const snapshot = await reader.waitFor((m) => m.entries.length === 2);

    expect(snapshot.entries.map((x) => [x.movieId, x.views])).toEqual([
      [a._id.toHexString(), 2],
      [c._id.toHexString(), 1],
    ]);
  });

  it('does not count failed lookups', async () => {
    // A movie that exists, looked up by id, but answered NOT_FOUND: remembered as absent.
    const ghost = movieFactory({ title: 'Ghost' });
    await t.movies.insertOne(ghost);
    await t.redis.set(absentKey(ghost._id.toHexString()), '1', 'EX', 60);
    await expect(t.api.getMovie({ id: ghost._id.toHexString() })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    await view(a, 1);
    await t.app.get(LeaderboardProvider).flush();
    const reader = open({ intervalMs: 100 });

    const snapshot = await reader.waitFor((m) => m.entries.length > 0);
    expect(snapshot.entries.map((entry) => entry.movieId)).toEqual([a._id.toHexString()]);
    expect(await t.redis.zscore(TRENDING_ALL_KEY, ghost._id.toHexString())).toBeNull();
  });

  it('sends no new snapshot while nothing changes', async () => {
    const reader = open({ intervalMs: 100 });
    await view(a, 1);
    await reader.waitFor((m) => m.entries.length === 1);
    const seen = reader.messages.length;

    await sleep(1_000);
    expect(reader.messages).toHaveLength(seen);

    await view(a, 1);
    await reader.waitFor((m) => m.entries[0]?.views === 2);
    await sleep(500);
    expect(reader.messages).toHaveLength(seen + 1);
  });

  it('forgets views older than a short window, while all-time keeps them', async () => {
    const windowed = open({ windowSeconds: 2, intervalMs: 100 });
    const allTime = open({ windowSeconds: 0, intervalMs: 100 });
    await view(a, 2);

    await windowed.waitFor((m) => m.entries[0]?.views === 2);
    const forgotten = await windowed.waitFor((m) => m.entries.length === 0, 6_000, 1);
    await sleep(300);

    expect(forgotten.entries).toEqual([]);
    expect(allTime.messages.at(-1)?.entries[0]).toMatchObject({
      movieId: a._id.toHexString(),
      views: 2,
    });
  });

  it.each([
    [{ limit: 101 }, 'limit'],
    [{ limit: -1 }, 'limit'],
    [{ windowSeconds: 86_401 }, 'window_seconds'],
    [{ windowSeconds: -5 }, 'window_seconds'],
    [{ intervalMs: 99 }, 'interval_ms'],
    [{ intervalMs: 60_001 }, 'interval_ms'],
  ])('answers INVALID_ARGUMENT for %j', async (request, field) => {
    const reader = open(request);
    const error = await reader.closed();
    expect(error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining(field),
    });
  });

  it('cleans up cancelled streams: the open-stream count returns to zero', async () => {
    const streams = [open({}), open({ windowSeconds: 60 }), open({ limit: 3, intervalMs: 100 })];
    await Promise.all(streams.map((s) => s.waitFor(() => true)));
    expect(await openStreams()).toBe(3);

    streams.forEach((s) => s.cancel());

    await waitForOpenStreams(0);
    // Nothing is left running: no ranking is computed any more (ZREVRANGE runs in each one).
    await t.redis.config('RESETSTAT');
    await sleep(500);
    const info = await t.redis.info('commandstats');
    expect(/cmdstat_zrevrange:calls=(\d+)/.exec(info)?.[1] ?? '0').toBe('0');
  });

  it('shares one ranking computation per tick among subscribers of the same window', async () => {
    await view(a, 1);
    const streams = Array.from({ length: 50 }, (_, i) =>
      open({ windowSeconds: 60, intervalMs: 200, limit: 1 + (i % 5) }),
    );
    await Promise.all(streams.map((s) => s.waitFor((m) => m.entries.length === 1)));
    await t.redis.config('RESETSTAT');
    const started = performance.now();

    await sleep(2_000);
    const info = await t.redis.info('commandstats');
    const ticks = Math.ceil((performance.now() - started) / 200) + 1;
    const unions = Number(/cmdstat_zunionstore:calls=(\d+)/.exec(info)?.[1] ?? 0);

    // At most one computation per tick however fast or slow the machine; unshared, 50 per tick.
    expect(unions).toBeGreaterThanOrEqual(1);
    expect(unions).toBeLessThanOrEqual(ticks);
  });
});

describe('StreamTrending with include_movies', () => {
  const movies = ['Listed One', 'Listed Two', 'Listed Three'].map((title) =>
    movieFactory({ title, rating: 5 }),
  );
  const [one, two] = movies.map((movie) => movie._id.toHexString());
  let t: TestApp;
  const readers: SnapshotReader<StreamTrendingResponse>[] = [];

  const open = (request: Parameters<TestApp['api']['streamTrending']>[0]) => {
    const reader = new SnapshotReader(t.api.streamTrending(request));
    readers.push(reader);
    return reader;
  };
  const allTimeViews = async (id: string) => {
    await t.app.get(LeaderboardProvider).flush();
    return Number(await t.redis.zscore(TRENDING_ALL_KEY, id));
  };

  beforeEach(async () => {
    t = await startTestApp({ env: TREND_ENV, movies });
    for (const [id, times] of [
      [one, 2],
      [two, 1],
    ] as const)
      for (let i = 0; i < times; i += 1) await t.api.getMovie({ id });
    await t.app.get(LeaderboardProvider).flush();
  });
  afterEach(async () => {
    readers.splice(0).forEach((r) => r.cancel());
    await t.close();
  });

  it('each entry carries its movie, and reading them counts no view', async () => {
    const listing = open({ includeMovies: true, intervalMs: 100 });
    const plain = open({ intervalMs: 100 });

    const snapshot = await listing.waitFor((m) => m.entries.length === 2);
    await sleep(1_000);

    expect(snapshot.entries.map((e) => [e.movieId, e.views, e.movie?.id, e.movie?.title])).toEqual([
      [one, 2, one, 'Listed One'],
      [two, 1, two, 'Listed Two'],
    ]);
    expect(snapshot.entries[0].movie).toMatchObject({ rating: 5, revision: 0 });
    expect((await plain.waitFor((m) => m.entries.length === 2)).entries[0].movie).toBeUndefined();
    // About 10 ticks read both movies: none of them is a view (the feed would rank itself).
    expect([await allTimeViews(one), await allTimeViews(two)]).toEqual([2, 1]);
    // Nothing changed: no second snapshot.
    expect(listing.messages).toHaveLength(1);
  });

  it('a write shows in the next snapshot, with its revision', async () => {
    const listing = open({ includeMovies: true, intervalMs: 100 });
    await listing.waitFor((m) => m.entries[0]?.movie?.revision === 0);

    const written = await t.api.updateRating({ id: one, rating: 9.5 });

    const next = await listing.waitFor((m) => m.entries[0]?.movie?.rating === 9.5, 5_000, 1);
    expect(next.entries[0].movie?.revision).toBe(written.movie?.revision);
    expect(next.entries[0].views).toBe(2);
  });

  it('an entry whose movie cannot be read carries none, and the others still do', async () => {
    const gone = movieFactory()._id.toHexString();
    await t.redis.zincrby(TRENDING_ALL_KEY, 5, gone);
    await t.redis.zincrby(TRENDING_ALL_KEY, 4, 'not-a-movie-id');
    await t.redis.hset(TRENDING_TITLES_KEY, gone, 'Deleted Since', 'not-a-movie-id', 'Junk');

    const snapshot = await open({ includeMovies: true, intervalMs: 100 }).waitFor(
      (m) => m.entries.length === 4,
    );

    expect(snapshot.entries.map((e) => [e.movieId, e.movie?.id])).toEqual([
      [gone, undefined],
      ['not-a-movie-id', undefined],
      [one, one],
      [two, two],
    ]);
  });

  it('streams of one window and interval share one read of the movies per tick', async () => {
    const streams = Array.from({ length: 20 }, (_, i) =>
      open({ includeMovies: true, intervalMs: 200, limit: 1 + (i % 2) }),
    );
    await Promise.all(streams.map((s) => s.waitFor((m) => m.entries[0]?.movie !== undefined)));
    const before = (await t.api.getCacheStats()).nearCache!.hits;
    const started = performance.now();

    await sleep(2_000);
    const reads = (await t.api.getCacheStats()).nearCache!.hits - before;
    const ticks = Math.ceil((performance.now() - started) / 200) + 1;

    // Two movies a tick, whatever the number of streams (unshared: 40 a tick).
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(reads).toBeLessThanOrEqual(2 * ticks);
  });
});

describe('StreamTrending and shutdown', () => {
  it('ends open streams with UNAVAILABLE and flushes buffered views', async () => {
    const movie = movieFactory({ title: 'Last Call' });
    const t = await startTestApp({ env: { VIEW_FLUSH_MS: '10000' }, movies: [movie] });
    const reader = new SnapshotReader(t.api.streamTrending({}));
    await reader.waitFor(() => true);
    await t.api.getMovie({ id: movie._id.toHexString() });
    const redis = t.redis.duplicate();

    await t.close();

    expect(await reader.closed()).toMatchObject({ code: status.UNAVAILABLE });
    expect(await redis.zscore(TRENDING_ALL_KEY, movie._id.toHexString())).toBe('1');
    redis.disconnect();
  });
});
