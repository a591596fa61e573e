import type { Document } from 'bson';
import { mongo } from 'mongoose';
import { CacheTier } from '../../src/generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../src/metrics/metrics.service';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { hex, movieFactory } from '../factories/movie.factory';
import { failCommand, failPointEntered } from '../support/fail-point';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

const SEEN_WITHIN_MS = 5_000;
const STREAM_COMMANDS = ['getMore', 'aggregate'];

/**
 * The change-stream feed when MongoDB fails it, made to fail by mongod's failCommand fail point
 * (mirrored by the mongo-java-server launcher): the same commands fail a real mongod started with
 * enableTestCommands. One instance leads; its lease is long, so a resume counts only failures.
 */
describe('the change feed on a MongoDB change stream: when the stream fails', () => {
  let server: MongoJavaServer;
  /** The writer outside the service, and the client that configures the fail point. */
  let admin: mongo.MongoClient;
  let direct: mongo.Collection;
  let t: TestApp;
  const lost = { 286: movieFactory({ rating: 5 }), 10334: movieFactory({ rating: 5 }) };
  const around = [movieFactory(), movieFactory(), movieFactory()];
  const resumed = [movieFactory(), movieFactory()];

  const feed = async () => (await t.api.getCacheStats()).changeFeed!;
  const ratingOf = async (movie: Document) =>
    (await t.api.getMovie({ id: hex(movie) })).movie?.rating;
  const seen = (movie: Document, rating: number) =>
    until(async () => (await ratingOf(movie)) === rating, SEEN_WITHIN_MS);
  /** Reads until the near-cache answers, so a copy the feed missed would be served from memory. */
  const warm = async (...movies: Document[]) => {
    for (const movie of movies)
      await until(
        async () =>
          (await t.api.getMovie({ id: hex(movie) })).cacheTier === CacheTier.CACHE_TIER_LOCAL,
      );
  };
  const historyLostFlushes = async () => {
    const { values } = await t.app.get(MetricsService).feedFlushes.get();
    return values.find((v) => v.labels.reason === 'history-lost')?.value ?? 0;
  };

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('movie-cache-mjs-'));
    const mongoUri = `${server.uri}sample_mflix`;
    admin = await new mongo.MongoClient(server.uri).connect();
    direct = admin.db('sample_mflix').collection(MOVIES_COLLECTION);
    // Before the service starts (see change-stream.e2e-spec.ts).
    await direct.insertMany([...Object.values(lost), ...around, ...resumed]);
    t = await startTestApp({
      env: {
        CHANGE_FEED: 'mongodb',
        CHANGE_FEED_LEASE_MS: '5000',
        CACHE_TTL_SECONDS: '600',
        NEAR_CACHE_TTL_MS: '600000',
      },
      config: { mongoUri },
    });
    await until(async () => (await feed()).state === 'leading');
  });
  afterEach(() => failCommand(admin, 'off'));
  afterAll(async () => {
    await t?.close();
    await admin?.close();
    await server?.stop();
  });

  // BSONObjectTooLarge: mongod's answer to every read from before an event over 16 MB.
  it.each([
    ['ChangeStreamHistoryLost', 286],
    ['BSONObjectTooLarge', 10334],
  ] as const)(
    'history lost (%s): one flush, a write it never saw is read fresh, and it follows again',
    async (_name, code) => {
      const stale = lost[code];
      await warm(stale);
      const before = await feed();
      const metricBefore = await historyLostFlushes();
      // The stream down with a code that says nothing of history: the feed retries, flushes nothing.
      await failCommand(admin, 'alwaysOn', { failCommands: STREAM_COMMANDS, errorCode: 6 });
      await until(async () => (await feed()).state === 'recovering');
      await direct.updateOne({ _id: stale._id }, { $set: { 'imdb.rating': 9.7 } });
      // The last write before the restart: now() starts at it (inclusive), so the update is not
      // delivered again; only the flush can make it seen.
      await direct.insertOne(movieFactory());
      expect(await ratingOf(stale)).toBe(5);

      const count = await failCommand(
        admin,
        { times: 1 },
        { failCommands: STREAM_COMMANDS, errorCode: code },
      );
      await failPointEntered(admin, count + 1);
      await until(async () => (await feed()).flushes === before.flushes + 1);

      expect(await ratingOf(stale)).toBe(9.7);
      await until(async () => (await feed()).state === 'leading');
      await warm(stale);
      await direct.updateOne({ _id: stale._id }, { $set: { 'imdb.rating': 8.1 } });
      await seen(stale, 8.1);
      expect(await feed()).toMatchObject({ state: 'leading', flushes: before.flushes + 1 });
      expect(await historyLostFlushes()).toBe(metricBefore + 1);
    },
  );

  it('a connection hung up under the stream: the driver resumes it, no write lost, no flush', async () => {
    await warm(...around);
    const before = await feed();
    await direct.updateOne({ _id: around[0]._id }, { $set: { 'imdb.rating': 6.1 } });
    await seen(around[0], 6.1);

    const count = await failCommand(
      admin,
      { times: 1 },
      { failCommands: ['getMore'], closeConnection: true },
    );
    await failPointEntered(admin, count + 1);
    // Right after the hang-up, while the driver reconnects and resumes.
    await direct.updateOne({ _id: around[1]._id }, { $set: { 'imdb.rating': 6.2 } });
    await seen(around[1], 6.2);
    await direct.updateOne({ _id: around[2]._id }, { $set: { 'imdb.rating': 6.3 } });

    for (const [movie, rating] of [
      [around[0], 6.1],
      [around[1], 6.2],
      [around[2], 6.3],
    ] as const)
      await seen(movie, rating);
    // The driver's resume (a network error is resumable): the feed never saw the failure.
    expect(await feed()).toMatchObject({
      state: 'leading',
      flushes: before.flushes,
      resumes: before.resumes,
    });
  });

  it('the stream down a while (HostUnreachable): the feed resumes from its token, no write lost, no flush', async () => {
    await warm(...resumed);
    const before = await feed();
    await failCommand(admin, 'alwaysOn', { failCommands: STREAM_COMMANDS, errorCode: 6 });
    await until(async () => (await feed()).state === 'recovering');
    // Two writes while it is down: a resume from "now" (the last one, inclusive) would lose the first.
    await direct.updateOne({ _id: resumed[0]._id }, { $set: { 'imdb.rating': 7.1 } });
    await direct.updateOne({ _id: resumed[1]._id }, { $set: { 'imdb.rating': 7.2 } });
    expect(await ratingOf(resumed[0])).not.toBe(7.1);

    await failCommand(admin, 'off');
    await seen(resumed[0], 7.1);
    await seen(resumed[1], 7.2);
    // Without mongod's ResumableChangeStreamError label the driver gives up; the feed resumes.
    const after = await feed();
    expect(after).toMatchObject({ state: 'leading', flushes: before.flushes });
    expect(after.resumes).toBeGreaterThan(before.resumes);
  });
});
