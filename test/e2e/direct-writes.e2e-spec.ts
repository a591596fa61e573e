import type { ObjectId } from 'bson';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';

/** The revision trigger is the embedded database's (FerretDB on PostgreSQL); MongoDB has none. */
const onEmbedded = process.env.TEST_EMBEDDED_MONGO === '1' ? describe : describe.skip;

onEmbedded('writes made straight to the embedded database, by other tools', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const revisionOf = async (id: ObjectId) =>
    (await t.movies.findOne({ _id: id }, { projection: { revision: 1 } }))?.revision as number;

  it('an updateOne that leaves the revision alone succeeds, and raises the revision by one', async () => {
    const movie = movieFactory({ revision: 4 });
    await t.movies.insertOne(movie);

    await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 3.3 } });

    expect(await t.movies.findOne({ _id: movie._id })).toMatchObject({
      revision: 5,
      imdb: { rating: 3.3 },
    });
  });

  it('a movie inserted without a revision gets revision 1 at its first update, and the API reads it', async () => {
    const movie = movieFactory(); // stored without a revision
    await t.movies.insertOne(movie);

    await t.movies.updateOne({ _id: movie._id }, { $set: { plot: 'Rewritten.' } });

    expect(await revisionOf(movie._id)).toBe(1);
    const { movie: read } = await t.api.getMovie({ id: movie._id.toHexString() });
    expect(read).toMatchObject({ plot: 'Rewritten.', revision: 1 });
  });

  it('a replaceOne without a revision, and one with a higher revision, keep the revision rising', async () => {
    const withoutRevision = movieFactory();
    const movie = { ...withoutRevision, _id: withoutRevision._id as ObjectId, revision: 2 };
    await t.movies.insertOne(movie);

    await t.movies.replaceOne({ _id: movie._id }, { ...withoutRevision, title: 'Replaced' });
    const afterReplace = await revisionOf(movie._id);
    await t.movies.updateOne({ _id: movie._id }, { $set: { revision: 40 } });

    expect(afterReplace).toBe(3);
    expect(await revisionOf(movie._id)).toBe(40);
  });

  it('the service’s own writes still raise the revision once each, after a direct write', async () => {
    const movie = movieFactory({ revision: 0 });
    await t.movies.insertOne(movie);
    const id = movie._id.toHexString();
    await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 2 } });

    const results = await Promise.all(
      [6, 7, 8].map((rating) => t.api.updateRating({ id, rating })),
    );

    expect(results.map((r) => r.movie?.revision).sort()).toEqual([2, 3, 4]);
    expect(await revisionOf(movie._id)).toBe(4);
  });
});
