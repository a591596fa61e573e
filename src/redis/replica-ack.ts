import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { sleep } from '../common/sleep';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { REDIS_CLIENT, duplicateOptions, type RedisClient } from './redis-connection';

/** How long a write waits for its replica: about a replication round trip, with room to spare. */
export const REPLICA_WAIT_MS = 100;

type Replies = Array<[Error | null, unknown]> | null;

/**
 * Whether writes to a key would survive a failover (a Redis Cluster, Sentinel, a managed primary
 * with replicas): writes it again and WAITs for one replica (Redis replicates asynchronously).
 * A master with no replica attached confirms at once: no failover can promote one that lacks it.
 */
@Injectable()
export class ReplicaAck implements OnModuleInit, OnApplicationShutdown {
  /** WAIT blocks its connection: not the one every command shares. */
  private connection?: RedisClient;

  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const connectionName = 'movie-cache-wait';
    this.connection =
      this.client instanceof Cluster
        ? this.client.duplicate([], {
            redisOptions: { ...this.client.options.redisOptions, connectionName },
          })
        : this.client.duplicate({ ...duplicateOptions(this.client), connectionName });
    this.connection.on('error', () => undefined);
  }

  async confirm(key: string, ttlSeconds: number): Promise<boolean> {
    const connection = this.connection;
    if (!connection) return false;
    const late = sleep(REPLICA_WAIT_MS + this.config.redisTimeoutMs).then(() => false);
    return Promise.race([this.replicated(connection, key, ttlSeconds).catch(() => false), late]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }

  /** ROLE first: WAIT with no replica attached would block for its whole timeout. */
  private async replicated(
    connection: RedisClient,
    key: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    // On a cluster a pipeline's keyless commands go to the node of its key.
    const asked: Replies = await connection.pipeline().expire(key, ttlSeconds).call('ROLE').exec();
    const [role, , replicas] = (asked?.[1]?.[1] ?? []) as [string?, number?, unknown[]?];
    // EXPIRE 0: the key is gone, so nothing was written that WAIT could cover.
    if (asked?.[0]?.[1] !== 1 || role !== 'master') return false;
    if (replicas?.length === 0) return true;
    const waited: Replies = await connection
      .pipeline()
      .expire(key, ttlSeconds)
      .call('WAIT', '1', String(REPLICA_WAIT_MS))
      .exec();
    return waited?.[0]?.[1] === 1 && Number(waited[1]?.[1]) >= 1;
  }
}
