import type { Document, ObjectId } from 'bson';
import { mongo } from 'mongoose';
import {
  HistoryLostError,
  SOURCE_STUCK_MS,
  type ChangeBatch,
  type MovieChange,
} from '../../src/movies/change-feed/change-source';
import { MongoChangeStreamSource } from '../../src/movies/change-feed/mongo-change-stream.source';
import { movieFactory } from '../factories/movie.factory';
import { failCommand } from '../support/fail-point';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { tempDir } from '../support/temp-dir';
import { sleep, until } from '../support/wait';

/** A follow() running in the background, collecting what it delivers until stopped. */
function following(sut: MongoChangeStreamSource, token: string) {
  const batches: ChangeBatch[] = [];
  const abort = new AbortController();
  const done = sut.follow(token, async (batch) => void batches.push(batch), abort.signal);
  const changes = () => batches.flatMap((batch) => batch.changes);
  return {
    batches,
    changes,
    ids: () => changes().map((change) => change.id),
    /** Waits until `count` changes arrived; a follow() that failed fails the wait with its error. */
    received: (count: number) =>
      Promise.race([until(async () => changes().length >= count), done.then(() => undefined)]),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

const hex = (id: unknown) => (id as ObjectId).toHexString();

describe(MongoChangeStreamSource.name, () => {
  let server: MongoJavaServer;
  let client: mongo.MongoClient;
  let databases = 0;
  let movies: mongo.Collection<Document>;
  let sut: MongoChangeStreamSource;

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('mongo-java-server-'));
    client = await new mongo.MongoClient(server.uri).connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });
  // mongo-java-server shows a drop of any collection on every stream of its database: one each.
  beforeEach(() => {
    databases += 1;
    movies = client.db(`change_stream_${databases}`).collection('movies');
    sut = new MongoChangeStreamSource(movies);
  });
  afterEach(async () => {
    await failCommand(client, 'off');
    await sut.close();
  });

  it('delivers an insert, update, replace and delete as the movie changes they are', async () => {
    const feed = following(sut, await sut.now());
    const startedAt = Math.floor(Date.now() / 1000) * 1000;
    const movie = movieFactory({ title: 'Heat', year: 1995 });
    const id = movie._id.toHexString();

    // One write at a time: updateLookup reads the document when the event is read, not written.
    await movies.insertOne(movie);
    await feed.received(1);
    await movies.updateOne({ _id: movie._id }, { $set: { title: 'Heat (1995)' } });
    await feed.received(2);
    await movies.replaceOne({ _id: movie._id }, { title: 'Ronin', year: 1998 });
    await feed.received(3);
    await movies.deleteOne({ _id: movie._id });
    await feed.received(4);
    await feed.stop();

    const at = expect.any(Number);
    expect(feed.changes()).toEqual<MovieChange[]>([
      { op: 'insert', id, titles: [{ title: 'Heat', year: 1995 }], at },
      { op: 'update', id, titles: [{ title: 'Heat (1995)', year: 1995 }], at },
      // mongo-java-server reports a replace as an update.
      {
        op: expect.stringMatching(/^(replace|update)$/),
        id,
        titles: [{ title: 'Ronin', year: 1998 }],
        at,
      },
      { op: 'delete', id, titles: [], at },
    ]);
    for (const change of feed.changes()) {
      expect(change.at).toBeGreaterThanOrEqual(startedAt);
      expect(change.at).toBeLessThanOrEqual(Date.now());
    }
  });

  it('delivers the changes already there as one batch, its token after the last', async () => {
    const token = await sut.now();
    const { insertedIds } = await movies.insertMany([movieFactory(), movieFactory()]);

    const first = following(sut, token);
    await first.received(2);
    await first.stop();
    const next = following(sut, first.batches[0].token);
    const { insertedId } = await movies.insertOne(movieFactory());
    await next.received(1);
    await next.stop();

    expect(first.batches.map((batch) => batch.changes.length)).toEqual([2]);
    expect(first.ids()).toEqual(Object.values(insertedIds).map(hex));
    expect(next.ids()).toEqual([hex(insertedId)]);
  });

  it('resumes from a stored token after closing: only the later changes, none lost', async () => {
    const first = following(sut, await sut.now());
    await movies.insertOne(movieFactory());
    await first.received(1);
    await first.stop();
    const stored = first.batches[first.batches.length - 1].token;

    const missed = await movies.insertMany([movieFactory(), movieFactory()]);
    const resumed = following(sut, stored);
    const { insertedId } = await movies.insertOne(movieFactory());
    await resumed.received(3);
    await resumed.stop();

    expect(resumed.ids()).toEqual([...Object.values(missed.insertedIds), insertedId].map(hex));
  });

  it('delivers a write made after now() but before following', async () => {
    const token = await sut.now();
    const { insertedId } = await movies.insertOne(movieFactory());

    const feed = following(sut, token);
    await feed.received(1);
    await feed.stop();

    expect(feed.ids()).toContain(hex(insertedId));
  });

  it('delivers a drop as a collection-wide change, and goes on after the invalidate', async () => {
    const feed = following(sut, await sut.now());
    await movies.insertOne(movieFactory());
    await feed.received(1);
    await movies.drop();
    await feed.received(2);
    await feed.stop();
    expect(feed.changes()[1]).toEqual({ op: 'drop', titles: [], at: expect.any(Number) });

    // MongoDB follows a drop with invalidate; mongo-java-server only on a resume after the drop.
    const afterDrop = following(sut, feed.batches[feed.batches.length - 1].token);
    await afterDrop.received(1);
    const { insertedId } = await movies.insertOne(movieFactory());
    await until(async () => afterDrop.ids().includes(hex(insertedId)));
    await afterDrop.stop();
    expect(afterDrop.changes().map((change) => change.op)).toEqual(['invalidate', 'insert']);
    expect(afterDrop.changes()[0]).toEqual({
      op: 'invalidate',
      titles: [],
      at: expect.any(Number),
    });

    // The invalidate's own token starts after it, from another process too.
    const invalidateToken = afterDrop.batches[0].token;
    const later = following(new MongoChangeStreamSource(movies), invalidateToken);
    await later.received(1);
    await later.stop();
    expect(later.ids()).toEqual([hex(insertedId)]);
  });

  it.each([
    ['not a token', 'garbage'],
    ['a token of unknown kind', 'resumeAt:{"_data":"00"}'],
    ['a token whose value is not EJSON', 'resumeAfter:{"_data":'],
    ['an operation time that is not a timestamp', 'startAtOperationTime:{"_data":"00"}'],
  ])('rejects %s with HistoryLostError', async (_case, token) => {
    const never = jest.fn();
    await expect(sut.follow(token, never, new AbortController().signal)).rejects.toBeInstanceOf(
      HistoryLostError,
    );
    expect(never).not.toHaveBeenCalled();
  });

  it("rejects another server's token instead of following from a guess", async () => {
    // A MongoDB 7 resume token: MongoDB answers 280 (HistoryLostError); mongo-java-server cannot
    // parse it and fails without a code.
    const foreign = 'resumeAfter:{"_data":"8265A1B2C3000000012B022C0100296E5A1004"}';
    await expect(sut.follow(foreign, jest.fn(), new AbortController().signal)).rejects.toThrow();
  });

  it('an idle stream is not stuck: it follows past the bound with nothing to deliver', async () => {
    let failed: unknown;
    const feed = following(sut, await sut.now());
    const watched = feed.received(1).catch((error: unknown) => (failed = error));

    await sleep(SOURCE_STUCK_MS + 1_000);
    const { insertedId } = await movies.insertOne(movieFactory());
    await watched;
    await feed.stop();

    expect(failed).toBeUndefined();
    expect(feed.ids()).toEqual([hex(insertedId)]);
  });

  it('fails when no batch or heartbeat comes within the bound: a getMore held on a healthy connection', async () => {
    const blockMs = 3 * SOURCE_STUCK_MS;
    const token = await sut.now();
    await failCommand(
      client,
      { times: 1 },
      { failCommands: ['getMore'], blockConnection: true, blockTimeMS: blockMs },
    );

    const startedAt = Date.now();
    const error: unknown = await sut
      .follow(token, jest.fn(), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(HistoryLostError);
    expect((error as Error).message).toContain('no batch or heartbeat');
    // It gave up on the stream, not waited for the server to let go.
    expect(Date.now() - startedAt).toBeLessThan(blockMs);
  });

  // mongod's own fail point: the server answers the stream's next getMore with the code.
  it.each([
    ['ChangeStreamHistoryLost', 286],
    ['ChangeStreamFatalError', 280],
    // mongod's answer to an event over 16 MB; mongo-java-server has no such limit, hence the fail point.
    ['BSONObjectTooLarge', 10334],
  ])('rejects with HistoryLostError when the server answers %s (%d)', async (_name, code) => {
    const token = await sut.now();
    await failCommand(client, { times: 1 }, { failCommands: ['getMore'], errorCode: code });

    const error: unknown = await sut
      .follow(token, jest.fn(), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryLostError);
    expect((error as Error).message).toContain("'failCommand' failpoint");
  });

  it('rejects with the error itself when the code says nothing of history (ShutdownInProgress)', async () => {
    const token = await sut.now();
    await failCommand(client, { times: 1 }, { failCommands: ['getMore'], errorCode: 91 });

    const error: unknown = await sut
      .follow(token, jest.fn(), new AbortController().signal)
      .catch((e: unknown) => e);
    // Without mongod's ResumableChangeStreamError label the driver does not resume on its own.
    expect(error).toBeInstanceOf(mongo.MongoServerError);
    expect(error).not.toBeInstanceOf(HistoryLostError);
    expect((error as mongo.MongoServerError).code).toBe(91);
  });
});
