import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import mongoose from 'mongoose';
import type { ChildService } from '../../src/stack/child-service';
import { startFerretDb, startRedisServer } from '../../src/stack/embedded-stack';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';

/**
 * The servers of one phase, fresh for it in a temp dir: the embedded MongoDB (FerretDB on
 * PostgreSQL) and a redis-server, or a Redis Cluster of 3 masters + 3 replicas.
 */
export class PhaseServers {
  private constructor(
    readonly dataDir: string,
    private readonly ferret: Awaited<ReturnType<typeof startFerretDb>>,
    private redis: ChildService | undefined,
    readonly cluster: RedisClusterStack | undefined,
    /** Keys are deleted and the flood written through this client (a Cluster client on a cluster). */
    readonly keys: Redis | Cluster,
    readonly mongo: mongoose.Connection,
  ) {}

  static async start(onCluster: boolean): Promise<PhaseServers> {
    const dataDir = mkdtempSync(join(tmpdir(), 'movie-cache-lincheck-'));
    const [ferret, redis, cluster] = await Promise.all([
      startFerretDb(dataDir, undefined, 'postgresql'),
      onCluster ? undefined : startRedisServer(dataDir),
      onCluster ? startRedisCluster(dataDir, { nodeTimeoutMs: 1_000 }) : undefined,
    ]);
    const keys = cluster
      ? new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })))
      : new Redis(redis!.port, '127.0.0.1');
    keys.on('error', () => undefined);
    const mongo = await mongoose.createConnection(PhaseServers.mongoUri(ferret.port)).asPromise();
    return new PhaseServers(dataDir, ferret, redis, cluster, keys, mongo);
  }

  private static mongoUri(port: number): string {
    return `mongodb://127.0.0.1:${port}/lincheck`;
  }

  /** What the instances need to reach these servers (the change feed reads FerretDB's PostgreSQL). */
  serviceEnv(): Record<string, string> {
    return {
      MONGODB_URI: PhaseServers.mongoUri(this.ferret.port),
      CHANGE_FEED: 'postgres',
      CHANGE_FEED_POSTGRES_URL: this.ferret.postgresUrl!,
      ...(this.cluster
        ? { REDIS_CLUSTER_NODES: this.cluster.seeds }
        : { REDIS_URL: `redis://127.0.0.1:${this.redis!.port}` }),
    };
  }

  /** Runs a command on every master (the one server, or each master of the cluster now). */
  async onMasters<T>(command: (master: Redis) => Promise<T>): Promise<T[]> {
    return Promise.all(
      (await this.masterPorts()).map(async (port) => {
        const master = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
        master.on('error', () => undefined);
        try {
          await master.connect();
          return await command(master);
        } finally {
          master.disconnect();
        }
      }),
    );
  }

  private async masterPorts(): Promise<number[]> {
    if (!this.cluster) return [this.redis!.port];
    const slots = await (this.keys as Cluster).cluster('SLOTS');
    return [...new Set(slots.map((range) => Number(range[2][1])))];
  }

  /** SIGKILLs Redis (every node of a cluster): gone with its data, as in a crash. */
  async killRedis(): Promise<void> {
    const nodes = this.cluster ? [...this.cluster.nodes] : [this.redis!];
    nodes.forEach((node) => node.signal('SIGKILL'));
    await Promise.all(nodes.map((node) => node.stop()));
  }

  /** Starts Redis again on the same ports, empty (no persistence); a cluster keeps its slots. */
  async restartRedis(): Promise<void> {
    if (this.cluster) {
      const cluster = this.cluster;
      await Promise.all([...cluster.nodes].map((node) => cluster.restart(node)));
      await cluster.settled();
    } else {
      this.redis = await startRedisServer(this.dataDir, this.redis!.port);
    }
  }

  async stop(): Promise<void> {
    await this.mongo.close().catch(() => undefined);
    this.keys.disconnect();
    await Promise.all([this.ferret.stop(), this.redis?.stop(), this.cluster?.stop()]);
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.ferret.postgresDataDir && !this.ferret.postgresDataDir.startsWith(this.dataDir))
      rmSync(this.ferret.postgresDataDir, { recursive: true, force: true });
  }
}
