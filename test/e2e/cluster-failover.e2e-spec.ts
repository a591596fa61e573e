import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { NEAR_CACHE_INSTANCES_KEY, movieKey } from '../../src/redis/cache-keys';
import { firstNodeUrl, parseClusterNodes } from '../../src/config/redis-cluster-nodes';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';
import { movieFactory } from '../factories/movie.factory';
import { clusterInspector } from '../support/cluster-inspector';
import { FailoverLoad } from '../support/failover-load';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { sleep, until } from '../support/wait';

describe('Redis Cluster: a master killed mid-load (SIGKILL), two instances', () => {
  let cluster: RedisClusterStack;
  const movies = Array.from({ length: 24 }, (_, i) => movieFactory({ title: `Failover ${i}` }));
  const ids = movies.map((m) => m._id.toHexString());

  beforeAll(async () => {
    cluster = await startRedisCluster(tempDir('movie-cache-failover-'), { nodeTimeoutMs: 1_000 });
  }, 60_000);
  afterAll(() => cluster.stop());

  /** `bEnv`: the second instance's own settings on top of the shared ones. */
  async function twoInstances(bEnv: Record<string, string> = {}): Promise<[TestApp, TestApp]> {
    const seeds = parseClusterNodes(cluster.seeds);
    const config = { redisCluster: seeds, redisUrl: firstNodeUrl(seeds) };
    const env = { REDIS_TIMEOUT_MS: '300', CACHE_TTL_SECONDS: '60' };
    const inspector = clusterInspector(cluster.seeds);
    await inspector.flushdb();
    inspector.disconnect();
    const a = await startTestApp({ env, config, movies, keepRedis: true });
    const b = await startTestApp({
      env: { ...env, ...bEnv },
      config: { ...config, mongoUri: a.config.mongoUri },
      keepRedis: true,
    });
    return [a, b];
  }

  /** Kills `victim` under load, waits for its replica to take over, and checks every answer. */
  async function killUnderLoad(
    victim: ChildService,
    a: TestApp,
    b: TestApp,
  ): Promise<FailoverLoad> {
    const onVictim = await idsServedBy(victim);
    const load = new FailoverLoad(onVictim.length >= 4 ? onVictim : ids);
    const running = load.run([a, a, b, b], [a, b]);
    await sleep(1_000);
    victim.signal('SIGKILL');
    await until(async () => (await cluster.masterOf(movieKey(onVictim[0]))) !== victim, 20_000);
    await cluster.settled();
    await sleep(2_000);
    load.stop();
    await running;
    return load;
  }

  async function closeAndRestart(apps: TestApp[], victim: ChildService): Promise<void> {
    for (const t of apps.reverse()) await t.close();
    await cluster.restart(victim);
    await cluster.settled();
  }

  async function idsServedBy(node: ChildService): Promise<string[]> {
    const served = await Promise.all(
      ids.map(async (id) => (await cluster.masterOf(movieKey(id))) === node),
    );
    return ids.filter((_, i) => served[i]);
  }

  // The second instance runs without a near-cache: dirty marks reach it all the same.
  it('a master of movie slots: its replica takes over, every read is answered, no acknowledged write is lost, a refused one is not saved, no read is stale (also on an instance without near-cache)', async () => {
    const [a, b] = await twoInstances({ NEAR_CACHE: 'off' });
    const channel = await cluster.masterOf(NEAR_CACHE_INSTANCES_KEY);
    const masters = await Promise.all(ids.map((id) => cluster.masterOf(movieKey(id))));
    const victim = masters.find((node) => node !== channel)!;
    try {
      const load = await killUnderLoad(victim, a, b);
      console.log('failover of a movie master', load.summary());

      // Reads never fail; a write either lands or is refused unsaved (its slot had no master).
      expect(load.errors).toEqual([]);
      expect(load.stale).toEqual([]);
      expect(load.statuses.get(CacheStatus.CACHE_STATUS_BYPASS)).toBeGreaterThan(0);
      await load.expectCoherent([a, b]);
    } finally {
      await closeAndRestart([a, b], victim);
    }
  }, 120_000);

  it('the master of the near-cache channel too: the subscriptions move to its replica, no read is stale, and the cache is coherent', async () => {
    const [a, b] = await twoInstances();
    const victim = await cluster.masterOf(NEAR_CACHE_INSTANCES_KEY);
    try {
      const load = await killUnderLoad(victim, a, b);
      console.log('failover of the channel master', load.summary());

      expect(load.errors).toEqual([]);
      expect(load.stale).toEqual([]);
      await load.expectCoherent([a, b]);
      await until(async () => [a, b].every((t) => t.app.get(NearCache).stats().serving));
    } finally {
      await closeAndRestart([a, b], victim);
    }
  }, 120_000);
});
