import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { CacheModule } from '@nestjs/cache-manager';
import { KeyvAdapter, type CacheManagerStore } from 'cache-manager';
import { redisInsStore, type RedisStore } from 'cache-manager-ioredis-yet';
import Redis from 'ioredis';
import { Keyv } from 'keyv';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';

export const REDIS_STORE = Symbol('REDIS_STORE');
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/** The one Redis connection: cache-manager's store and every raw command share it. */
export function createRedisClient(config: ResolvedAppConfig): Redis {
  const logger = new Logger('Redis');
  const client = new Redis(config.redisUrl, {
    connectionName: 'movie-cache',
    // Fail fast while Redis is away so reads fall back to MongoDB instead of queueing.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Commands issued in the same tick share one socket write: far fewer syscalls under load.
    enableAutoPipelining: true,
    commandTimeout: config.redisTimeoutMs,
    connectTimeout: Math.max(config.redisTimeoutMs * 4, 1_000),
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  let lastError = '';
  client.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn(`connection error: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) logger.log('connection restored');
    lastError = '';
  });
  return client;
}

/** Resolves once the client is ready, or after timeoutMs (the service then starts degraded). */
export function waitForRedis(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    }
    client.on('ready', onReady);
  });
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.client.status === 'end') return;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_STORE,
      inject: [APP_CONFIG],
      useFactory: async (config: ResolvedAppConfig): Promise<RedisStore> => {
        const client = createRedisClient(config);
        await waitForRedis(client, Math.max(config.redisTimeoutMs * 10, 5_000));
        return redisInsStore(client, { ttl: config.cacheTtlSeconds * 1000 });
      },
    },
    {
      provide: REDIS_CLIENT,
      inject: [REDIS_STORE],
      useFactory: (store: RedisStore) => store.client,
    },
    RedisLifecycle,
  ],
  exports: [REDIS_STORE, REDIS_CLIENT],
})
export class RedisModule {}

/** CACHE_MANAGER, app-wide, on the same store (and so the same connection) as RedisModule. */
export const CacheManagerModule = CacheModule.registerAsync({
  isGlobal: true,
  imports: [RedisModule],
  inject: [REDIS_STORE, APP_CONFIG],
  useFactory: (store: RedisStore, config: ResolvedAppConfig) => ({
    stores: [
      new Keyv({ store: new KeyvAdapter(store as unknown as CacheManagerStore), namespace: 'cm' }),
    ],
    ttl: config.cacheTtlSeconds * 1000,
  }),
});
