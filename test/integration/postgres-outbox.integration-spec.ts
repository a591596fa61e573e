import { randomUUID } from 'node:crypto';
import type { ObjectId } from 'bson';
import mongoose, { type Connection } from 'mongoose';
import { Client } from 'pg';
import { HistoryLostError, type MovieChange } from '../../src/movies/change-feed/change-source';
import { PostgresOutboxSource } from '../../src/movies/change-feed/postgres-outbox.source';
import { movieFactory } from '../factories/movie.factory';
import { isolatedMongoUri, testServers } from '../support/test-env';
import { sleep, until } from '../support/wait';

const postgresUrl = process.env.TEST_POSTGRES_URL;
/** The outbox lives under FerretDB on PostgreSQL: the embedded stack's, or none. */
const onPostgres = postgresUrl ? describe : describe.skip;

const hex = (movie: { _id?: unknown }) => (movie._id as ObjectId).toHexString();

onPostgres(PostgresOutboxSource.name, () => {
  let connection: Connection;
  let database: string;
  let admin: Client;
  let sut: PostgresOutboxSource;
  const aborts: AbortController[] = [];
  const movies = () => connection.db!.collection('movies');

  /** Follows the source into a list; `done` is how follow ended. */
  function follow(token: string) {
    const changes: MovieChange[] = [];
    const tokens: string[] = [];
    const abort = new AbortController();
    aborts.push(abort);
    const done = sut.follow(
      token,
      async (batch) => void (changes.push(...batch.changes), tokens.push(batch.token)),
      abort.signal,
    );
    done.catch(() => undefined);
    const stop = () => (abort.abort(), done);
    return { changes, done, stop, lastToken: () => tokens.at(-1)! };
  }

  beforeEach(async () => {
    const uri = isolatedMongoUri(testServers().mongoUri);
    database = new URL(uri).pathname.slice(1);
    connection = await mongoose.createConnection(uri).asPromise();
    await connection.db!.createCollection('movies');
    admin = new Client({ connectionString: postgresUrl });
    await admin.connect();
    sut = new PostgresOutboxSource(postgresUrl!, database);
  });

  afterEach(async () => {
    aborts.splice(0).forEach((abort) => abort.abort());
    await sut.close();
    await admin.end();
    await connection.close();
  });

  it("delivers every write after now() as FerretDB made it, and no other database's", async () => {
    const started = Date.now();
    const feed = follow(await sut.now());
    const movie = movieFactory({ title: 'Alpha', year: 1999 });

    await movies().insertOne(movie);
    await movies().updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 3 } });
    const other = connection.getClient().db(`${database}_other`);
    await other.collection('movies').insertOne(movieFactory());
    await movies().updateOne({ _id: movie._id }, { $set: { title: 'Beta' } });
    await movies().replaceOne({ _id: movie._id }, { title: 'Gamma', year: '2001è' });
    await movies().deleteOne({ _id: movie._id });
    await until(async () => feed.changes.length >= 5);
    await sleep(300);

    const id = hex(movie);
    const [alpha, beta, gamma] = [
      { title: 'Alpha', year: 1999 },
      { title: 'Beta', year: 1999 },
      { title: 'Gamma', year: 2001 },
    ];
    // A replace is an UPDATE of the row underneath: it arrives as an update.
    expect(feed.changes.map(({ op, id, titles }) => ({ op, id, titles }))).toEqual([
      { op: 'insert', id, titles: [alpha] },
      { op: 'update', id, titles: [alpha] },
      { op: 'update', id, titles: [alpha, beta] },
      { op: 'update', id, titles: [beta, gamma] },
      { op: 'delete', id, titles: [gamma] },
    ]);
    expect(feed.changes[0].at).toBeGreaterThanOrEqual(started - 1000);
    expect(feed.changes[4].at).toBeLessThanOrEqual(Date.now());
  });

  it('resumes from a stored token with the changes after it only', async () => {
    const first = follow(await sut.now());
    const [a, b, c] = [movieFactory(), movieFactory(), movieFactory()];
    await movies().insertOne(a);
    await until(async () => first.changes.length === 1);
    await first.stop();

    await movies().insertMany([b, c]);
    const second = follow(first.lastToken());
    await until(async () => second.changes.length >= 2);
    await sleep(300);

    expect(second.changes.map((change) => change.id)).toEqual([hex(b), hex(c)]);
  });

  it('holds a commit back while a transaction with a lower seq is open, then delivers both', async () => {
    const [a, b] = [movieFactory(), movieFactory()];
    await movies().insertMany([a, b]);
    const feed = follow(await sut.now());
    const { rows } = await admin.query<{ tbl: string }>(
      `SELECT _jsonb->>'table' AS tbl FROM "${database}"._ferretdb_database_metadata
        WHERE _jsonb->>'_id' = 'movies'`,
    );
    const [slow, quick] = [new Client(postgresUrl), new Client(postgresUrl)];
    await Promise.all([slow.connect(), quick.connect()]);
    const retitle = (client: Client, movie: { _id?: unknown }, title: string) =>
      client.query(
        `UPDATE "${database}"."${rows[0].tbl}" SET _jsonb = jsonb_set(_jsonb, '{title}', $1)
          WHERE _jsonb->>'_id' = $2`,
        [JSON.stringify(title), hex(movie)],
      );
    try {
      await slow.query('BEGIN');
      await retitle(slow, a, 'Slow'); // takes the lower seq, commits last
      await quick.query('BEGIN');
      await retitle(quick, b, 'Quick');
      await quick.query('COMMIT');
      await sleep(1500);
      expect(feed.changes).toEqual([]);

      await slow.query('COMMIT');
      await until(async () => feed.changes.length >= 2);
    } finally {
      await Promise.all([slow.end(), quick.end()]);
    }

    expect(feed.changes.map((change) => [change.id, change.titles.at(-1)?.title])).toEqual([
      [hex(a), 'Slow'],
      [hex(b), 'Quick'],
    ]);
  });

  it('a killed wake-up connection rejects follow; a follow from its last token loses nothing', async () => {
    const feed = follow(await sut.now());
    const [a, b] = [movieFactory(), movieFactory()];
    await movies().insertOne(a);
    await until(async () => feed.changes.length === 1);

    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [`movie-cache feed ${database}`],
    );
    expect(killed.rowCount).toBe(1);
    const error: unknown = await feed.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(HistoryLostError);

    await movies().insertOne(b);
    const again = follow(feed.lastToken());
    await until(async () => again.changes.length >= 1);
    expect(again.changes.map((change) => change.id)).toEqual([hex(b)]);
  });

  it("another outbox's token, a malformed one or one pruned past: HistoryLostError", async () => {
    const stale = await sut.now();
    await movies().insertOne(movieFactory());

    await expect(follow(`${randomUUID()}:1:0`).done).rejects.toBeInstanceOf(HistoryLostError);
    await expect(follow('sample_mflix:1').done).rejects.toBeInstanceOf(HistoryLostError);
    await sleep(1200);
    await sut.prune(1000);
    await expect(follow(stale).done).rejects.toBeInstanceOf(HistoryLostError);

    const fresh = follow(await sut.now());
    const movie = movieFactory();
    await movies().insertOne(movie);
    await until(async () => fresh.changes.some((change) => change.id === hex(movie)));
  });

  it('drops and renames of the collection arrive; the triggers follow the name movies', async () => {
    const feed = follow(await sut.now());
    const [a, b, c] = [movieFactory(), movieFactory(), movieFactory()];
    await movies().insertOne(a);
    await movies().rename('movies_old');
    await connection.db!.collection('movies_old').insertOne(movieFactory());
    await connection.db!.collection('films').insertOne(movieFactory());
    await connection.db!.collection('films').rename('movies');
    await movies().insertOne(b);
    await movies().drop();
    await movies().insertOne(c);
    await connection.db!.dropDatabase();
    await until(async () => feed.changes.length >= 7);
    await sleep(300);

    expect(feed.changes.map(({ op, id }) => [op, id])).toEqual([
      ['insert', hex(a)],
      ['rename', undefined],
      ['rename', undefined],
      ['insert', hex(b)],
      ['drop', undefined],
      ['insert', hex(c)],
      ['drop', undefined],
    ]);
  });
});
