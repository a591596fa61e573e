import { status } from '@grpc/grpc-js';
import type { Document } from 'bson';
import { mongo } from 'mongoose';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { hex, movieFactory } from '../factories/movie.factory';
import {
  expectCountersToRise,
  feedCounters,
  fleet,
  onPostgres,
  SEEN_WITHIN_MS,
  warm,
} from '../support/change-feed-fleet';
import { statusOf } from '../support/grpc-status';
import type { TestApp } from '../support/test-app';
import { until } from '../support/wait';

/**
 * Collection-wide changes made with the MongoDB driver, as another tool would: FerretDB's
 * dropCollection, dropDatabase and renameCollection reach the outbox as drop and rename, and the
 * leader flushes every cache (its changes name no movie). deleteMany({}) arrives as row deletes.
 */
onPostgres('the change feed on the embedded database: movies dropped or renamed', () => {
  let a: TestApp;
  let b: TestApp;
  let client: mongo.MongoClient;
  let db: mongo.Db;

  beforeAll(async () => {
    ({ a, b } = await fleet());
    client = await new mongo.MongoClient(a.config.mongoUri).connect();
    db = client.db();
  });
  afterAll(async () => {
    await client?.close();
    await b?.close();
    await a?.close();
  });

  /** A movie inserted by the driver, its insert applied (so it evicts nothing later), then warm. */
  async function warmMovie(movie: Document): Promise<void> {
    const counted = await feedCounters(a, b);
    await db.collection(MOVIES_COLLECTION).insertOne(movie);
    await expectCountersToRise([a, b], counted, { changes: { insert: 1 } });
    for (const t of [a, b]) await warm(t, hex(movie));
  }

  const ratingOn = async (t: TestApp, movie: Document) =>
    (await t.api.getMovie({ id: hex(movie) })).movie?.rating;

  /** Once the flush reached both instances: the movie is read from MongoDB again, found or not. */
  async function expectNotFoundOnBoth(movie: Document): Promise<void> {
    for (const t of [a, b])
      await until(
        async () => (await statusOf(t.api.getMovie({ id: hex(movie) }))) === status.NOT_FOUND,
        SEEN_WITHIN_MS,
      );
  }

  /** A title remembered absent on both, then inserted: the feed follows the new collection. */
  async function expectLaterInsertFollowed(title: string): Promise<void> {
    for (const t of [a, b])
      expect(await statusOf(t.api.getMovie({ title }))).toBe(status.NOT_FOUND);
    const newcomer = movieFactory({ title });
    await db.collection(MOVIES_COLLECTION).insertOne(newcomer);
    for (const t of [a, b])
      await until(
        async () => (await t.api.getMovie({ title })).movie?.id === hex(newcomer),
        SEEN_WITHIN_MS,
      );
  }

  const flushes = async () =>
    (await Promise.all([a, b].map((t) => t.api.getCacheStats()))).reduce(
      (sum, stats) => sum + stats.changeFeed!.flushes,
      0,
    );

  it.each([
    ['drop() of movies', () => db.collection(MOVIES_COLLECTION).drop()],
    ['dropDatabase() (it arrives as a drop)', () => db.dropDatabase()],
  ])(
    '%s: every cache flushed, the warm movie no longer found, later writes followed',
    async (label, dropIt) => {
      const movie = movieFactory({ title: `Feed Dropped by ${label}` });
      await warmMovie(movie);
      const [counted, flushed] = await Promise.all([feedCounters(a, b), flushes()]);

      await dropIt();

      await expectNotFoundOnBoth(movie);
      await expectCountersToRise([a, b], counted, {
        changes: { drop: 1 },
        flushes: { collection: 1 },
      });
      expect(await flushes()).toBe(flushed + 1);
      await expectLaterInsertFollowed(`Feed Back After ${label}`);
    },
  );

  it('renameCollection of movies away, then of another collection onto movies: each flushes, and the new collection’s copy is served and followed', async () => {
    const movie = movieFactory({ title: 'Feed Before Rename', rating: 5 });
    await warmMovie(movie);
    const { _id, ...rest } = movie;
    await db.collection('movies_next').insertOne({
      ...rest,
      _id,
      title: 'Feed After Rename',
      imdb: { ...rest.imdb, rating: 8.2 },
    });
    const [counted, flushed] = await Promise.all([feedCounters(a, b), flushes()]);

    await db.renameCollection(MOVIES_COLLECTION, 'movies_old');
    await expectNotFoundOnBoth(movie);
    await db.renameCollection('movies_next', MOVIES_COLLECTION);
    for (const t of [a, b]) await until(async () => (await ratingOn(t, movie)) === 8.2);
    // Renamed away, the old collection is no longer followed; the new one is.
    await db.collection('movies_old').updateOne({ _id }, { $set: { 'imdb.rating': 1.1 } });
    await db.collection(MOVIES_COLLECTION).updateOne({ _id }, { $set: { 'imdb.rating': 9.3 } });

    for (const t of [a, b])
      await until(async () => (await ratingOn(t, movie)) === 9.3, SEEN_WITHIN_MS);
    await expectCountersToRise([a, b], counted, {
      changes: { rename: 2, update: 1 },
      flushes: { collection: 2 },
    });
    expect(await flushes()).toBe(flushed + 2);
    for (const t of [a, b])
      expect((await t.api.getMovie({ title: 'Feed After Rename' })).movie?.id).toBe(hex(movie));
  });
});
