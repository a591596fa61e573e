import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { sleep } from '../common/sleep';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { REDIS_CLIENT, type RedisClient } from './redis-connection';

/** How long a write waits for its replica: about a replication round trip, with room to spare. */
const WAIT_MS = 100;

/**
 * Whether writes to a key's slot survive a failover. Redis replicates asynchronously: a master
 * that dies right after it answered may take the write along, and its replica, promoted, has the
 * key as it was. `confirm` writes to the slot once more (re-arming the key's TTL) on a connection
 * of its own and WAITs until one replica has it: that replica then has every earlier write to
 * the slot. On one Redis server there is nothing to wait for (true). On a cluster it always
 * waits: the client's slot map may not list a master's replicas yet, and a master without
 * replica makes every write wait WAIT_MS and count as not confirmed (its copy is then repaired).
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
      .call('WAIT', '1', String(WAIT_MS))
      .exec();
    const late = sleep(WAIT_MS + this.config.redisTimeoutMs).then(() => null);
    const replied = await Promise.race([replies.catch(() => null), late]);
    // EXPIRE 0: the key is gone, so nothing was written that WAIT could cover.
    return replied?.[0]?.[1] === 1 && Number(replied[1]?.[1]) >= 1;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
