import { Test, type TestingModule } from '@nestjs/testing';
import { HealthImplementation } from 'grpc-health-check';
import type Redis from 'ioredis';
import { FILL_HOOK, noFillHook } from '../../src/cache/fill-hook';
import { MovieCache } from '../../src/cache/movie-cache.service';
import { CacheManagerModule, REDIS_CLIENT, RedisModule } from '../../src/cache/redis.module';
import type { ResolvedAppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { MetricsService } from '../../src/metrics/metrics.service';
import { freePort } from '../../src/stack/free-port';
import { testConfig } from './test-env';

export interface CacheTestingModule {
  module: TestingModule;
  cache: MovieCache;
  redis: Redis;
  config: ResolvedAppConfig;
}

/** The real cache providers on the test Redis, plus whatever providers the unit under test needs. */
export async function cacheTestingModule(
  providers: Parameters<typeof Test.createTestingModule>[0]['providers'] = [],
  options: { redisUnreachable?: boolean; env?: Record<string, string> } = {},
): Promise<CacheTestingModule> {
  let config = testConfig({ REDIS_TIMEOUT_MS: '200', ...options.env });
  if (options.redisUnreachable)
    config = { ...config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.register(config, new HealthImplementation()),
      RedisModule,
      CacheManagerModule,
    ],
    providers: [
      MovieCache,
      MetricsService,
      { provide: FILL_HOOK, useValue: noFillHook },
      ...(providers ?? []),
    ],
  }).compile();
  await module.init();
  return { module, cache: module.get(MovieCache), redis: module.get(REDIS_CLIENT), config };
}
