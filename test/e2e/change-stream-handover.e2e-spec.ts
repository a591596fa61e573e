import { mongo } from 'mongoose';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { CHANGE_FEED_HEALTH } from '../../src/ops/health.monitor';
import { hex, movieFactory } from '../factories/movie.factory';
import { expectCountersToRise, feedCounters, warm } from '../support/change-feed-fleet';
import { failCommand, failPointEntered } from '../support/fail-point';
import { watchHealth } from '../support/health-client';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

/** The source gives up after 5 s without a batch or a heartbeat; another instance then leads. */
const TAKEN_OVER_WITHIN_MS = 15_000;
/** Twice as long: a write seen within TAKEN_OVER_WITHIN_MS did not wait for the block to end. */
const BLOCK_MS = 30_000;
const FEED_ENV = {
  CHANGE_FEED: 'mongodb',
  CACHE_TTL_SECONDS: '600',
  NEAR_CACHE_TTL_MS: '600000',
  HEALTH_INTERVAL_MS: '100',
};

/**
 * A leader whose change stream is stuck on an otherwise healthy connection (mongod's failCommand
 * holds its getMore: blockConnection) hands the feed over instead of renewing its lease while
 * direct writes wait: another instance leads from the stored token.
 */
describe('the change feed on a MongoDB change stream: a leader whose stream is stuck', () => {
  let server: MongoJavaServer;
  /** The writer outside the service, and the client that configures the fail point. */
  let admin: mongo.MongoClient;
  let a: TestApp;
  let b: TestApp;
  const movie = movieFactory({ rating: 2 });

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('movie-cache-mjs-'));
    const mongoUri = `${server.uri}sample_mflix`;
    admin = await new mongo.MongoClient(server.uri).connect();
    // Before the service starts (see change-stream.e2e-spec.ts).
    await admin.db('sample_mflix').collection(MOVIES_COLLECTION).insertOne(movie);
    a = await startTestApp({ env: FEED_ENV, config: { mongoUri } });
    b = await startTestApp({ env: FEED_ENV, config: { mongoUri }, keepRedis: true });
    await until(async () => {
      const states = await Promise.all(
        [a, b].map(async (t) => (await t.api.getCacheStats()).changeFeed?.state),
      );
      return states.includes('leading') && states.includes('standby');
    });
  });
  afterAll(async () => {
    await failCommand(admin, 'off').catch(() => undefined);
    await b?.close();
    await a?.close();
    await admin?.close();
    await server?.stop();
  });

  it('its getMore held past the bound: another instance leads from the stored token, the write made meanwhile is seen on both, health said so, nothing flushed', async () => {
    for (const t of [a, b]) await warm(t, hex(movie));
    const stuck = (await a.api.getCacheStats()).changeFeed?.state === 'leading' ? a : b;
    const counted = await feedCounters(a, b);
    const health = watchHealth(stuck.address, CHANGE_FEED_HEALTH);
    try {
      // Only the leader reads the stream: the next getMore is its own.
      const count = await failCommand(
        admin,
        { times: 1 },
        { failCommands: ['getMore'], blockConnection: true, blockTimeMS: BLOCK_MS },
      );
      await failPointEntered(admin, count + 1);
      await admin
        .db('sample_mflix')
        .collection(MOVIES_COLLECTION)
        .updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 7.5 } });

      for (const t of [a, b])
        await until(
          async () => (await t.api.getMovie({ id: hex(movie) })).movie?.rating === 7.5,
          TAKEN_OVER_WITHIN_MS,
        );
      await until(async () => health.statuses.includes('NOT_SERVING'));
      await until(async () => health.statuses.at(-1) === 'SERVING');
      expect(health.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    } finally {
      health.stop();
    }
    const states = await Promise.all(
      [a, b].map(async (t) => (await t.api.getCacheStats()).changeFeed?.state),
    );
    expect(states.sort()).toEqual(['leading', 'standby']);
    await expectCountersToRise([a, b], counted, {
      changes: { update: 1 },
      flushes: {},
      resumes: 1,
    });
  });
});
