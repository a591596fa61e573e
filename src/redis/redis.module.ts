import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { CacheModule } from '@nestjs/cache-manager';
import { KeyvAdapter, type CacheManagerStore } from 'cache-manager';
import { redisInsStore, type RedisStore } from 'cache-manager-ioredis-yet';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { CACHE_MANAGER_NAMESPACE } from './cache-keys';
import {
  REDIS_CLIENT,
  createRedisClient,
  waitForRedis,
  type RedisClient,
} from './redis-connection';
import { RedisCircuit } from './redis-circuit';
import { RedisClock } from './redis-clock';
import { ReplicaAck } from './replica-ack';
import { REDIS_SCRIPTS, loadScripts } from './redis-scripts';

const REDIS_STORE = Symbol('REDIS_STORE');

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.client.status === 'end') return;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/**
 * The Redis connection (one per app, through cache-manager's store: one server, Sentinel's master
 * or a cluster), the breaker in front of it, the Lua scripts, and the replica acknowledgement of
 * writes.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS_STORE,
      inject: [APP_CONFIG],
      useFactory: async (config: ResolvedAppConfig): Promise<RedisStore> => {
        const client = createRedisClient(config);
        await waitForRedis(client, Math.max(config.redisTimeoutMs * 10, 5_000));
        return redisInsStore(client);
      },
    },
    {
      provide: REDIS_CLIENT,
      inject: [REDIS_STORE],
      useFactory: (store: RedisStore) => store.client,
    },
    { provide: REDIS_SCRIPTS, inject: [REDIS_CLIENT], useFactory: loadScripts },
    RedisCircuit,
    RedisClock,
    ReplicaAck,
    RedisLifecycle,
  ],
  exports: [REDIS_STORE, REDIS_CLIENT, REDIS_SCRIPTS, RedisCircuit, RedisClock, ReplicaAck],
})
export class RedisModule {}

/** CACHE_MANAGER, app-wide, on the same store (and so the same connection) as RedisModule. */
export const CacheManagerModule = CacheModule.registerAsync({
  isGlobal: true,
  imports: [RedisModule],
  inject: [REDIS_STORE],
  // No default TTL: every entry is written with the one its owner's policy gives.
  useFactory: (store: RedisStore) => ({
    // A store adapter, not a Keyv: the module builds its Keyv from the ESM copy it imports.
    stores: [new KeyvAdapter(store as unknown as CacheManagerStore)],
    namespace: CACHE_MANAGER_NAMESPACE,
  }),
});
