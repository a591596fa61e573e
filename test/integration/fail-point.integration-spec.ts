import { mongo } from 'mongoose';
import { failCommand, failPointEntered } from '../support/fail-point';
import { startMongoJavaServer, type MongoJavaServer } from '../support/mongo-java-server';
import { tempDir } from '../support/temp-dir';

/**
 * The launcher's failCommand fail point answers as mongod's does, so the change-stream specs can
 * send mongod's command. Retries off: a retried read would hide the failure under test.
 */
/** Long enough that the calls made meanwhile are answered first on a busy machine. */
const BLOCK_MS = 1_500;

describe('failCommand on the mongo-java-server launcher', () => {
  let server: MongoJavaServer;
  let client: mongo.MongoClient;
  let movies: mongo.Collection;

  beforeAll(async () => {
    server = await startMongoJavaServer(tempDir('fail-point-'));
    client = await new mongo.MongoClient(server.uri, {
      retryReads: false,
      retryWrites: false,
    }).connect();
    movies = client.db('fail_point').collection('movies');
    await movies.insertOne({ title: 'Fail Point' });
  });
  afterEach(() => failCommand(client, 'off'));
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('{times: 2} fails the named command twice with the code, then it answers again', async () => {
    const before = await failCommand(
      client,
      { times: 2 },
      { failCommands: ['find'], errorCode: 286 },
    );

    for (let attempt = 1; attempt <= 2; attempt += 1) {
      await expect(movies.findOne({})).rejects.toMatchObject({
        code: 286,
        codeName: 'ChangeStreamHistoryLost',
        errmsg: "Failing command via 'failCommand' failpoint",
      });
      // Only the commands named fail, and only they count.
      await expect(movies.insertOne({ title: 'Between' })).resolves.toBeDefined();
    }
    await expect(movies.findOne({})).resolves.toMatchObject({ title: 'Fail Point' });
    expect(await failCommand(client, 'off')).toBe(before + 2);
  });

  it('alwaysOn fails until off, and carries the errorLabels given', async () => {
    await failCommand(client, 'alwaysOn', {
      failCommands: ['find'],
      errorCode: 91,
      errorLabels: ['ResumableChangeStreamError'],
    });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const error: unknown = await movies.findOne({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(mongo.MongoServerError);
      expect((error as mongo.MongoServerError).code).toBe(91);
      expect((error as mongo.MongoServerError).hasErrorLabel('ResumableChangeStreamError')).toBe(
        true,
      );
    }
    await expect(movies.insertOne({ title: 'Passes' })).resolves.toBeDefined();

    await failCommand(client, 'off');
    await expect(movies.findOne({ title: 'Passes' })).resolves.toBeTruthy();
  });

  it('closeConnection hangs up on the command: a network error, then the next one answers', async () => {
    const before = await failCommand(
      client,
      { times: 1 },
      { failCommands: ['find'], closeConnection: true },
    );

    await expect(movies.findOne({})).rejects.toBeInstanceOf(mongo.MongoNetworkError);
    await expect(movies.findOne({})).resolves.toMatchObject({ title: 'Fail Point' });
    await failPointEntered(client, before + 1, 1_000);
  });

  it('waitForFailPoint waits for the count, and times out below it', async () => {
    const before = await failCommand(
      client,
      { times: 1 },
      { failCommands: ['find'], errorCode: 2 },
    );
    await expect(failPointEntered(client, before + 1, 300)).rejects.toMatchObject({ code: 50 });

    await movies.findOne({}).catch(() => undefined);
    await failPointEntered(client, before + 1, 1_000);
  });

  it('blockConnection holds the command for blockTimeMS, then runs it; other connections are served meanwhile', async () => {
    const before = await failCommand(
      client,
      { times: 1 },
      { failCommands: ['find'], blockConnection: true, blockTimeMS: BLOCK_MS },
    );
    const other = await new mongo.MongoClient(server.uri).connect();
    try {
      const startedAt = Date.now();
      let answered = false;
      const blocked = movies.findOne({ title: 'Fail Point' }).finally(() => (answered = true));
      await failPointEntered(client, before + 1, 1_000);

      // The same server, and another connection of the same client, answer while it is held.
      await expect(other.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
      await expect(movies.insertOne({ title: 'While Blocked' })).resolves.toBeDefined();
      expect(answered).toBe(false);

      await expect(blocked).resolves.toMatchObject({ title: 'Fail Point' });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(BLOCK_MS);
      await expect(movies.findOne({ title: 'While Blocked' })).resolves.toBeTruthy();
    } finally {
      await other.close();
    }
  });

  it('blockConnection with errorCode fails the command with the code once the block is over', async () => {
    await failCommand(
      client,
      { times: 1 },
      { failCommands: ['find'], blockConnection: true, blockTimeMS: 200, errorCode: 91 },
    );

    await expect(movies.findOne({})).rejects.toMatchObject({
      code: 91,
      codeName: 'ShutdownInProgress',
    });
    await expect(movies.findOne({})).resolves.toBeTruthy();
  });

  it('refuses what it does not mirror, instead of ignoring it', async () => {
    const admin = client.db('admin');
    await expect(
      admin.command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: { failCommands: ['find'], errorCode: 2, appName: 'movie-cache' },
      }),
    ).rejects.toMatchObject({ code: 2, errmsg: expect.stringContaining('appName') });
    // mongod fails the held command for it; the launcher refuses the data at once.
    await expect(
      admin.command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: { failCommands: ['find'], blockConnection: true },
      }),
    ).rejects.toMatchObject({ code: 2, errmsg: expect.stringContaining('blockTimeMS') });
    await expect(
      admin.command({ configureFailPoint: 'failCommand', mode: { activationProbability: 0.5 } }),
    ).rejects.toMatchObject({ code: 2 });
    await expect(
      client.db('fail_point').command({ configureFailPoint: 'failCommand', mode: 'off' }),
    ).rejects.toMatchObject({ code: 13 });
    await expect(movies.findOne({})).resolves.toBeTruthy();
  });
});
