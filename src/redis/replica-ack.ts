import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { sleep } from '../common/sleep';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { REDIS_CLIENT, type RedisClient } from './redis-connection';

/** How long a write waits for its replica: about a replication round trip, with room to spare. */
export const REPLICA_WAIT_MS = 100;

/**
 * Whether writes to a key's slot would survive a failover: writes it again and WAITs for one
 * replica (Redis replicates asynchronously). Always true on one server, and on a master with no
 * replica attached (no failover can then promote one that lacks the write).
 */
@Injectable()
export class ReplicaAck implements OnModuleInit, OnApplicationShutdown {
  /** WAIT blocks its connection: not the one every command shares. */
  private connection?: Cluster;

  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!(this.client instanceof Cluster)) return;
    this.connection = this.client.duplicate([], {
      redisOptions: { ...this.client.options.redisOptions, connectionName: 'movie-cache-wait' },
    });
    this.connection.on('error', () => undefined);
  }

  async confirm(key: string, ttlSeconds: number): Promise<boolean> {
    const cluster = this.client;
    if (!this.connection || !(cluster instanceof Cluster)) return true;
    const replies = this.connection
      .pipeline()
      .expire(key, ttlSeconds)
      .call('ROLE')
      .call('WAIT', '1', String(REPLICA_WAIT_MS))
      .exec();
    const late = sleep(REPLICA_WAIT_MS + this.config.redisTimeoutMs).then(() => null);
    const replied = await Promise.race([replies.catch(() => null), late]);
    // EXPIRE 0: the key is gone, so nothing was written that WAIT could cover.
    if (replied?.[0]?.[1] !== 1) return false;
    const replicas = (replied[1]?.[1] as [string, number, unknown[]] | undefined)?.[2];
    return replicas?.length === 0 || Number(replied[2]?.[1]) >= 1;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
