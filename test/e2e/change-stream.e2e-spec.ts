import { status } from '@grpc/grpc-js';
import type { Document, ObjectId } from 'bson';
import { mongo } from 'mongoose';
import { CacheTier } from '../../src/generated/nest/movies/v1/movie_service';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { movieFactory } from '../factories/movie.factory';
import { statusOf } from '../support/grpc-status';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

const hex = (movie: Document) => (movie._id as ObjectId).toHexString();
const SEEN_WITHIN_MS = 5_000;

/**
 * The change-stream source end to end: the service on mongo-java-server (change streams from its
 * oplog; no mongod here), a second writer using the driver. Real MongoDB: docker-compose.cluster.yml.
 */
describe('the change feed on a MongoDB change stream: writes made outside the service', () => {
  let server: MongoJavaServer;
  let t: TestApp;
  const kept = movieFactory({ rating: 5 });
  const doomed = movieFactory({ title: 'Stream Doomed' });

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('movie-cache-mjs-'));
    const mongoUri = `${server.uri}sample_mflix`;
    // Inserted before the service starts: an insert while it started (and opened its change
    // stream) failed once in five runs with mongo-java-server's "Unknown error: null".
    const client = await new mongo.MongoClient(mongoUri).connect();
    await client.db().collection(MOVIES_COLLECTION).insertMany([kept, doomed]);
    await client.close();
    t = await startTestApp({
      env: {
        CHANGE_FEED: 'mongodb',
        CHANGE_FEED_LEASE_MS: '600',
        CACHE_TTL_SECONDS: '600',
        NEAR_CACHE_TTL_MS: '600000',
      },
      config: { mongoUri },
    });
    await until(async () => (await t.api.getCacheStats()).changeFeed?.state === 'leading');
    for (const movie of [kept, doomed])
      await until(
        async () =>
          (await t.api.getMovie({ id: hex(movie) })).cacheTier === CacheTier.CACHE_TIER_LOCAL,
      );
  });
  afterAll(async () => {
    await t?.close();
    await server?.stop();
  });

  it('an updateOne through the driver reaches the warm near-cache', async () => {
    await t.movies.updateOne({ _id: kept._id }, { $set: { 'imdb.rating': 9.4 } });

    await until(
      async () => (await t.api.getMovie({ id: hex(kept) })).movie?.rating === 9.4,
      SEEN_WITHIN_MS,
    );
  });

  it('an insertOne of a title remembered absent, and a deleteOne', async () => {
    await expect(t.api.getMovie({ title: 'Stream Newcomer' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    const newcomer = movieFactory({ title: 'Stream Newcomer' });
    await t.movies.insertOne(newcomer);
    await t.movies.deleteOne({ _id: doomed._id });

    await until(
      async () => (await t.api.getMovie({ title: 'Stream Newcomer' })).movie?.id === hex(newcomer),
      SEEN_WITHIN_MS,
    );
    await until(
      async () => (await statusOf(t.api.getMovie({ id: hex(doomed) }))) === status.NOT_FOUND,
      SEEN_WITHIN_MS,
    );
    const { changeFeed } = await t.api.getCacheStats();
    expect(changeFeed).toMatchObject({ source: 'mongodb-change-stream', state: 'leading' });
  });
});
