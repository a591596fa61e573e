import { status } from '@grpc/grpc-js';
import { mongo } from 'mongoose';
import { CacheStatus, CacheTier } from '../../src/generated/nest/movies/v1/movie_service';
import type { GetMovieRequest } from '../../src/generated/client/movies/v1/movie_service';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { hex, movieFactory } from '../factories/movie.factory';
import { statusOf } from '../support/grpc-status';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

/** Generous: the leader reads the stream, then tells the other instance through Redis. */
const SEEN_WITHIN_MS = 10_000;
const FEED_ENV = {
  CHANGE_FEED: 'mongodb',
  CHANGE_FEED_LEASE_MS: '600',
  CACHE_TTL_SECONDS: '600',
  NEAR_CACHE_TTL_MS: '600000',
  // Longer than SEEN_WITHIN_MS: a remembered absence must be repaired, not outlived.
  NEGATIVE_TTL_SECONDS: '600',
};

/**
 * The change-stream source end to end: two instances on one mongo-java-server (change streams
 * from its oplog; no mongod here) and one Redis, both near-caches warm, a second writer using the
 * driver. One instance leads the feed; both must see each write. Real MongoDB:
 * docker-compose.cluster.yml.
 */
describe('the change feed on a MongoDB change stream: writes made outside the service', () => {
  let server: MongoJavaServer;
  let writer: mongo.MongoClient;
  let direct: mongo.Collection;
  let a: TestApp;
  let b: TestApp;
  const kept = movieFactory({ title: 'Stream Kept', rating: 5 });
  const renamed = movieFactory({ title: 'Stream Old Title' });
  const doomed = movieFactory({ title: 'Stream Doomed' });

  /** Both instances, in turn, until `check` holds on each. */
  const onBoth = async (check: (t: TestApp) => Promise<boolean>) => {
    for (const t of [a, b]) await until(() => check(t), SEEN_WITHIN_MS);
  };
  /** Reads until the near-cache answers, so a stale copy would be served from process memory. */
  const warm = (lookup: Partial<GetMovieRequest>) =>
    onBoth(async (t) => (await t.api.getMovie(lookup)).cacheTier === CacheTier.CACHE_TIER_LOCAL);
  const notFound = (lookup: Partial<GetMovieRequest>) =>
    onBoth(async (t) => (await statusOf(t.api.getMovie(lookup))) === status.NOT_FOUND);

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('movie-cache-mjs-'));
    const mongoUri = `${server.uri}sample_mflix`;
    writer = await new mongo.MongoClient(mongoUri).connect();
    direct = writer.db().collection(MOVIES_COLLECTION);
    // Inserted before the service starts: an insert while it started (and opened its change
    // stream) failed once in five runs with mongo-java-server's "Unknown error: null".
    await direct.insertMany([kept, renamed, doomed]);
    a = await startTestApp({ env: FEED_ENV, config: { mongoUri } });
    b = await startTestApp({ env: FEED_ENV, config: { mongoUri }, keepRedis: true });
    await until(async () => {
      const states = await Promise.all(
        [a, b].map(async (t) => (await t.api.getCacheStats()).changeFeed?.state),
      );
      return states.includes('leading') && states.includes('standby');
    });
    for (const movie of [kept, renamed, doomed]) await warm({ id: hex(movie) });
    await warm({ title: 'Stream Old Title' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await writer?.close();
    await server?.stop();
  });

  it("a change that leaves the movie as the cache holds it (the service's own write, come back) does not undo the write-through: the next read on each instance is a hit", async () => {
    const applied = async () =>
      (await Promise.all([a, b].map((t) => t.api.getCacheStats()))).reduce(
        (sum, stats) => sum + Number(stats.changeFeed?.applied ?? 0),
        0,
      );
    const { movie: written } = await a.api.updateRating({ id: hex(kept), rating: 6.2 });
    const appliedBefore = await applied();

    // MongoDB reports the service's findOneAndUpdate on the stream; mongo-java-server reports no
    // findAndModify, so a driver update of a field no copy holds stands in for it.
    await direct.updateOne({ _id: kept._id }, { $set: { lastCheckedAt: new Date() } });
    await until(async () => (await applied()) > appliedBefore, SEEN_WITHIN_MS);

    for (const t of [a, b])
      expect(await t.api.getMovie({ id: hex(kept) })).toMatchObject({
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        movie: { rating: 6.2, revision: written!.revision },
      });
  });

  it('an import that drops the revision (a replaceOne without it) leaves the movie cacheable: both instances then hit', async () => {
    const movie = movieFactory({ title: 'Stream Imported', rating: 5 });
    await direct.insertOne(movie);
    const id = hex(movie);
    for (let i = 0; i < 3; i += 1) await a.api.updateRating({ id, rating: 6 + i });
    const { _id, ...fields } = movie;
    await direct.replaceOne({ _id }, { ...fields, imdb: { ...movie.imdb, rating: 2.5 } });
    await onBoth(async (t) => (await t.api.getMovie({ id })).movie?.rating === 2.5);

    const statuses: CacheStatus[] = [];
    for (let round = 0; round < 15; round += 1)
      for (const { cacheStatus } of await Promise.all([a, b].map((t) => t.api.getMovie({ id }))))
        statuses.push(cacheStatus);

    // Before, the fence kept revision 3 and refused every fill of revision 0: all misses.
    expect(statuses.filter((s) => s !== CacheStatus.CACHE_STATUS_HIT)).toEqual([]);
  });

  it('an updateOne', async () => {
    await direct.updateOne({ _id: kept._id }, { $set: { 'imdb.rating': 9.4 } });

    await onBoth(async (t) => (await t.api.getMovie({ id: hex(kept) })).movie?.rating === 9.4);
  });

  it('a replaceOne that renames: the new title finds it, the old one answers NOT_FOUND', async () => {
    const { _id, ...rest } = renamed;
    await direct.replaceOne({ _id }, { ...rest, title: 'Stream New Title' });

    await onBoth(
      async (t) => (await t.api.getMovie({ id: hex(renamed) })).movie?.title === 'Stream New Title',
    );
    await notFound({ title: 'Stream Old Title' });
    await onBoth(
      async (t) => (await t.api.getMovie({ title: 'Stream New Title' })).movie?.id === hex(renamed),
    );
  });

  it('an insertOne of a title remembered absent', async () => {
    // Asked first: each instance, and Redis, remember the title absent.
    await notFound({ title: 'Stream Newcomer' });
    const newcomer = movieFactory({ title: 'Stream Newcomer' });
    await direct.insertOne(newcomer);

    await onBoth(
      async (t) => (await t.api.getMovie({ title: 'Stream Newcomer' })).movie?.id === hex(newcomer),
    );
  });

  it('a deleteOne', async () => {
    await direct.deleteOne({ _id: doomed._id });

    await notFound({ id: hex(doomed) });
    const feeds = await Promise.all(
      [a, b].map(async (t) => (await t.api.getCacheStats()).changeFeed),
    );
    expect(feeds.map((feed) => feed?.state).sort()).toEqual(['leading', 'standby']);
    for (const feed of feeds) expect(feed).toMatchObject({ source: 'mongodb-change-stream' });
  });
});
