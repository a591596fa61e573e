import { CacheStatus, CacheTier } from '../../src/generated/client/movies/v1/movie_service';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { movieKey } from '../../src/redis/cache-keys';
import {
  askRedis,
  startRedisReplication,
  type RedisReplicationStack,
} from '../support/redis-replication';
import { hex, movieFactory } from '../factories/movie.factory';
import { FailoverLoad } from '../support/failover-load';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { sleep, until } from '../support/wait';

describe('Redis behind Sentinel (REDIS_SENTINELS): the master killed mid-load (SIGKILL), two instances', () => {
  const movies = Array.from({ length: 24 }, (_, i) => movieFactory({ title: `Sentinel ${i}` }));
  const ids = movies.map(hex);
  let replication: RedisReplicationStack;

  beforeEach(async () => {
    replication = await startRedisReplication(tempDir('movie-cache-sentinel-'), {
      sentinel: true,
      downAfterMs: 1_000,
    });
  }, 60_000);
  afterEach(() => replication.stop());

  /** Both ask Sentinel for the master; the second runs without near-cache. */
  async function twoInstances(): Promise<[TestApp, TestApp]> {
    const env = {
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: '',
      REDIS_SENTINELS: replication.sentinels!,
      REDIS_TIMEOUT_MS: '300',
    };
    const a = await startTestApp({ env, movies, keepRedis: true });
    const b = await startTestApp({
      env: { ...env, NEAR_CACHE: 'off' },
      config: { mongoUri: a.config.mongoUri },
      keepRedis: true,
    });
    return [a, b];
  }

  /** Kills the master under load once `beforeKill` is done, and waits for Sentinel's promotion. */
  async function failOverUnderLoad(
    a: TestApp,
    b: TestApp,
    beforeKill: () => Promise<void> = async () => undefined,
  ): Promise<FailoverLoad> {
    const load = new FailoverLoad(ids);
    const running = load.run([a, a, b, b], [a, b]);
    await sleep(1_000);
    await beforeKill();
    replication.master.signal('SIGKILL');
    await until(async () => (await replication.masterPort()) === replication.replica.port, 30_000);
    await sleep(2_000);
    load.stop();
    await running;
    return load;
  }

  /** Every answer checked, then both instances serve from the promoted replica. */
  async function expectNoLoss(load: FailoverLoad, a: TestApp, b: TestApp): Promise<void> {
    // Reads never fail; a write either lands or is refused unsaved (no master confirmed it).
    expect(load.errors).toEqual([]);
    expect(load.stale).toEqual([]);
    await load.expectCoherent([a, b]);
    const id = ids[0];
    await until(async () => {
      const { cacheStatus, cacheTier } = await b.api.getMovie({ id });
      const onNewMaster = await askRedis(replication.replica.port, (r) => r.exists(movieKey(id)));
      return (
        cacheStatus === CacheStatus.CACHE_STATUS_HIT &&
        cacheTier === CacheTier.CACHE_TIER_REDIS &&
        onNewMaster === 1
      );
    });
    await until(async () => a.app.get(NearCache).stats().serving);
  }

  it('the replica in sync: Sentinel promotes it, no read fails or is stale, no acknowledged write is lost, a refused one is not saved', async () => {
    const [a, b] = await twoInstances();
    try {
      const load = await failOverUnderLoad(a, b);
      console.log('Sentinel failover, replica in sync', load.summary());

      await expectNoLoss(load, a, b);
    } finally {
      await b.close();
      await a.close();
    }
  }, 120_000);

  // Replication is asynchronous: what the master took in its last moments may never reach the
  // replica. Holding the replication stream for 2 s before the kill makes that window wide.
  it('the replica lagging when the master dies: no acknowledged write is missing from it, so no read is stale', async () => {
    const [a, b] = await twoInstances();
    try {
      const load = await failOverUnderLoad(a, b, async () => {
        replication.link.freeze();
        await sleep(2_000);
      });
      console.log('Sentinel failover, replica lagging', load.summary());

      await expectNoLoss(load, a, b);
    } finally {
      await b.close();
      await a.close();
    }
  }, 120_000);
});
