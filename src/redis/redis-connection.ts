import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { ResolvedAppConfig } from '../config/app-config';

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
