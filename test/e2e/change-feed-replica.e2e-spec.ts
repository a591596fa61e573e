import { FEED_TOKEN_KEY, fenceKey } from '../../src/redis/cache-keys';
import { hex, movieFactory } from '../factories/movie.factory';
import { FEED_ENV, onPostgres, warm } from '../support/change-feed-fleet';
import {
  askRedis,
  startRedisReplication,
  type RedisReplicationStack,
} from '../support/redis-replication';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { sleep, until } from '../support/wait';

/** Longer than the outbox source's poll and a few retries of a batch. */
const HELD_MS = 3_000;

onPostgres('the change feed on a Redis master with a replica: a repair the replica lacks', () => {
  const movie = movieFactory({ title: 'Feed Replicated', rating: 4 });
  let replication: RedisReplicationStack;
  let t: TestApp;

  beforeAll(async () => {
    replication = await startRedisReplication(tempDir('movie-cache-feed-replica-'));
    t = await startTestApp({
      env: { ...FEED_ENV, REDIS_CLUSTER_NODES: '' },
      config: { redisUrl: `redis://127.0.0.1:${replication.master.port}` },
      movies: [movie],
    });
    await until(async () => (await t.api.getCacheStats()).changeFeed?.state === 'leading');
    await warm(t, hex(movie));
  }, 60_000);
  afterAll(async () => {
    replication.replica.signal('SIGCONT');
    await t?.close();
    await replication?.stop();
  });

  it('holds the resume token until the replica has the repair, then moves on', async () => {
    const token = await t.redis.get(FEED_TOKEN_KEY);
    const fence = await t.redis.get(fenceKey(hex(movie)));
    expect(token).not.toBeNull();

    replication.replica.signal('SIGSTOP');
    try {
      await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 8.8 } });
      // The master has the repair; the token stays where a failover now would need it.
      await until(async () => (await t.redis.get(fenceKey(hex(movie)))) !== fence);
      await sleep(HELD_MS);
      expect(await t.redis.get(FEED_TOKEN_KEY)).toBe(token);
    } finally {
      replication.replica.signal('SIGCONT');
    }

    await until(async () => (await t.redis.get(FEED_TOKEN_KEY)) !== token, 10_000);
    // The token moved only once the replica held the fence the repair left.
    const onReplica = await askRedis(replication.replica.port, (r) => r.get(fenceKey(hex(movie))));
    expect(onReplica).toBe(await t.redis.get(fenceKey(hex(movie))));
    expect((await t.api.getMovie({ id: hex(movie) })).movie?.rating).toBe(8.8);
  });
});
