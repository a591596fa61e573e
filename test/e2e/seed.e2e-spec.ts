import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EJSON } from 'bson';
import mongoose, { type Connection } from 'mongoose';
import { BUNDLED_MOVIES_PATH, projectRoot } from '../../src/common/paths';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { importMovies, readMovieFile } from '../../src/movies/import/movie-import';
import { syntheticMovies } from '../../src/movies/import/synthetic-movies';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp } from '../support/test-app';
import { isolatedMongoUri, testServers } from '../support/test-env';
import { tempDir } from '../support/temp-dir';

describe('seeding', () => {
  let connection: Connection;
  let uri: string;

  beforeEach(async () => {
    uri = isolatedMongoUri(testServers().mongoUri);
    connection = await mongoose.createConnection(uri).asPromise();
  });
  afterEach(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  const movies = () => connection.collection(MOVIES_COLLECTION);

  it('imports the 1,000 bundled sample_mflix movies with their original ids, and a re-run inserts nothing', async () => {
    const first = await importMovies(movies(), readMovieFile(BUNDLED_MOVIES_PATH), {
      batchSize: 300,
    });
    const second = await importMovies(movies(), readMovieFile(BUNDLED_MOVIES_PATH), {
      batchSize: 300,
    });

    expect(first).toEqual({ inserted: 1000, skipped: 0 });
    expect(second).toEqual({ inserted: 0, skipped: 1000 });
    expect(await movies().countDocuments()).toBe(1000);
    const robbery = await movies().findOne({
      _id: new mongoose.Types.ObjectId('573a1390f29313caabcd42e8'),
    });
    expect(robbery).toMatchObject({
      title: 'The Great Train Robbery',
      year: 1903,
      imdb: { rating: 7.4 },
    });
    expect(robbery?.released).toBeInstanceOf(Date);
  });

  it('stores a source movie whose imdb.rating is "" without a rating', async () => {
    await importMovies(movies(), readMovieFile(BUNDLED_MOVIES_PATH));

    const blanks = await movies().countDocuments({ 'imdb.rating': '' });
    const unrated = await movies().countDocuments({ 'imdb.rating': { $exists: false } });

    expect(blanks).toBe(0);
    expect(unrated).toBeGreaterThanOrEqual(1);
  });

  it('reads JSONL Extended JSON and fills in the missing part of a partial earlier import', async () => {
    const docs = [movieFactory(), movieFactory(), movieFactory({ rating: '' })];
    const file = join(tempDir('seed-'), 'movies.jsonl');
    writeFileSync(file, docs.map((d) => EJSON.stringify(d, { relaxed: false })).join('\n') + '\n');
    await movies().insertOne(docs[0]);

    const result = await importMovies(movies(), readMovieFile(file));

    expect(result).toEqual({ inserted: 2, skipped: 1 });
    expect((await movies().findOne({ _id: docs[2]._id }))?.imdb).not.toHaveProperty('rating');
  });

  it('generates the same synthetic movies for the same seed, with distinct ids', () => {
    const a = [...syntheticMovies(500, 7)];
    const b = [...syntheticMovies(500, 7)];
    const c = [...syntheticMovies(5, 8)];

    expect(EJSON.stringify(a)).toBe(EJSON.stringify(b));
    expect(new Set(a.map((m) => m._id.toHexString())).size).toBe(500);
    expect(c[0].title).not.toBe(a[0].title);
    expect(a[0]).toMatchObject({
      title: expect.any(String),
      year: expect.any(Number),
      genres: expect.any(Array),
    });
  });

  it('npm run seed -- --synthetic imports through the CLI, and again is a no-op', async () => {
    const run = () =>
      promisify(execFile)('npx', ['tsx', 'scripts/seed.ts', '--synthetic', '2500'], {
        cwd: projectRoot(),
        env: { ...process.env, MONGODB_URI: uri },
      });

    const first = await run();
    const second = await run();

    expect(first.stdout).toContain('inserted 2500, already present 0');
    expect(second.stdout).toContain('inserted 0, already present 2500');
    expect(await movies().countDocuments()).toBe(2500);
  });
});

describe('bundled data through the API', () => {
  it('serves an imported sample_mflix movie over gRPC, then from the cache', async () => {
    const docs: mongoose.mongo.Document[] = [];
    for await (const doc of readMovieFile(BUNDLED_MOVIES_PATH)) docs.push(doc);
    const t = await startTestApp();
    try {
      await importMovies(t.movies, docs);
      const first = await t.api.getMovie({ title: 'The Great Train Robbery' });
      const second = await t.api.getMovie({ id: '573a1390f29313caabcd42e8' });

      expect(first.movie).toMatchObject({
        id: '573a1390f29313caabcd42e8',
        year: 1903,
        rating: 7.4,
        imdbVotes: 9847,
        runtimeMinutes: 11,
        directors: ['Edwin S. Porter'],
      });
      expect(second.cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
    } finally {
      await t.close();
    }
  });
});
