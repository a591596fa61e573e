import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { NEAR_CACHE_INSTANCES_KEY, movieKey } from '../../src/redis/cache-keys';
import { firstNodeUrl, parseClusterNodes } from '../../src/config/redis-cluster-nodes';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';
import { movieFactory } from '../factories/movie.factory';
import { clusterInspector } from '../support/cluster-inspector';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { sleep, until } from '../support/wait';

/** Reads and writes on both instances, checked as they go: errors, stale reads, acked writes. */
class Load {
  readonly ackedAt = new Map<string, Array<{ at: number; revision: number }>>();
  readonly errors: string[] = [];
  /** UpdateRatings refused while their slot had no master: nothing was written. */
  refusedWrites = 0;
  readonly stale: string[] = [];
  readonly statuses = new Map<CacheStatus, number>();
  unrefreshedWrites = 0;
  private running = true;

  constructor(private readonly ids: string[]) {
    for (const id of ids) this.ackedAt.set(id, []);
  }

  run(readers: TestApp[], writers: TestApp[]): Promise<void[]> {
    const pick = () => this.ids[Math.floor(Math.random() * this.ids.length)];
    const read = async (t: TestApp) => {
      while (this.running) {
        const id = pick();
        const floor = Math.max(-1, ...this.ackedAt.get(id)!.map((w) => w.revision));
        try {
          const { movie, cacheStatus, cacheTier } = await t.api.getMovie({ id });
          this.statuses.set(cacheStatus, (this.statuses.get(cacheStatus) ?? 0) + 1);
          if (movie!.revision < floor)
            this.stale.push(
              `${id}: ${movie!.revision} < ${floor} ${cacheStatus}/${cacheTier} ${t.config.nearCache.enabled} ${Math.round(performance.now())}`,
            );
        } catch (error) {
          this.errors.push(`read ${id}: ${(error as Error).message}`);
        }
      }
    };
    // Each writer its own ids: concurrent updates of one movie lose increments on FerretDB.
    const write = async (t: TestApp, mine: number) => {
      const own = this.ids.filter((_, i) => i % writers.length === mine);
      while (this.running) {
        const id = own[Math.floor(Math.random() * own.length)];
        try {
          const { movie, cacheRefreshed } = await t.api.updateRating({ id, rating: 5 });
          this.ackedAt.get(id)!.push({ at: performance.now(), revision: movie!.revision });
          if (!cacheRefreshed) this.unrefreshedWrites += 1;
        } catch (error) {
          if (/rating was not saved/.test((error as Error).message)) this.refusedWrites += 1;
          else this.errors.push(`write ${id}: ${(error as Error).message}`);
        }
        await sleep(5);
      }
    };
    return Promise.all([...readers.map(read), ...writers.map(write)]);
  }

  stop(): void {
    this.running = false;
  }

  writes(id: string): number {
    return this.ackedAt.get(id)!.length;
  }
}

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
  async function killUnderLoad(victim: ChildService, a: TestApp, b: TestApp): Promise<Load> {
    const onVictim = await idsServedBy(victim);
    const load = new Load(onVictim.length >= 4 ? onVictim : ids);
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

  /** Every acked write is in MongoDB, and both instances read MongoDB's state. */
  async function expectCoherent(load: Load, a: TestApp, b: TestApp): Promise<void> {
    for (const id of load.ackedAt.keys()) {
      const stored = await a.movies.findOne({ _id: movies[ids.indexOf(id)]._id });
      expect({ id, revision: stored?.revision ?? 0 }).toEqual({ id, revision: load.writes(id) });
    }
    await until(async () => {
      for (const t of [a, b])
        for (const id of load.ackedAt.keys()) {
          const { movie } = await t.api.getMovie({ id });
          if (movie!.revision !== load.writes(id)) return false;
        }
      return true;
    });
  }

  // The second instance runs without a near-cache: dirty marks reach it all the same.
  it('a master of movie slots: its replica takes over, every read is answered, no acknowledged write is lost, a refused one is not saved, no read is stale (also on an instance without near-cache)', async () => {
    const [a, b] = await twoInstances({ NEAR_CACHE: 'off' });
    const channel = await cluster.masterOf(NEAR_CACHE_INSTANCES_KEY);
    const masters = await Promise.all(ids.map((id) => cluster.masterOf(movieKey(id))));
    const victim = masters.find((node) => node !== channel)!;
    try {
      const load = await killUnderLoad(victim, a, b);
      console.log('failover of a movie master', {
        reads: [...load.statuses].map(([s, n]) => `${CacheStatus[s]} ${n}`),
        writes: [...load.ackedAt.values()].reduce((n, w) => n + w.length, 0),
        unrefreshedWrites: load.unrefreshedWrites,
        refusedWrites: load.refusedWrites,
      });

      // Reads never fail; a write either lands or is refused unsaved (its slot had no master).
      expect(load.errors).toEqual([]);
      expect(load.stale).toEqual([]);
      expect(load.statuses.get(CacheStatus.CACHE_STATUS_BYPASS)).toBeGreaterThan(0);
      await expectCoherent(load, a, b);
    } finally {
      await closeAndRestart([a, b], victim);
    }
  }, 120_000);

  it('the master of the near-cache channel too: the subscriptions move to its replica, no read is stale, and the cache is coherent', async () => {
    const [a, b] = await twoInstances();
    const victim = await cluster.masterOf(NEAR_CACHE_INSTANCES_KEY);
    try {
      const load = await killUnderLoad(victim, a, b);
      console.log('failover of the channel master', {
        reads: [...load.statuses].map(([s, n]) => `${CacheStatus[s]} ${n}`),
        unrefreshedWrites: load.unrefreshedWrites,
        refusedWrites: load.refusedWrites,
      });

      expect(load.errors).toEqual([]);
      expect(load.stale).toEqual([]);
      await expectCoherent(load, a, b);
      await until(async () => [a, b].every((t) => t.app.get(NearCache).stats().serving));
    } finally {
      await closeAndRestart([a, b], victim);
    }
  }, 120_000);
});
