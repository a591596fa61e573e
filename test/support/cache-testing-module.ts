import { Test, type TestingModule } from '@nestjs/testing';
import type Redis from 'ioredis';
import type { ResolvedAppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { MetricsService } from '../../src/metrics/metrics.service';
import { CacheCounters } from '../../src/movies/cache/cache-counters';
import { CacheHooksModule, type CacheHooks } from '../../src/movies/cache/cache-hooks';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { MOVIE_CACHE_PROVIDERS } from '../../src/movies/cache/movie-cache.providers';
import { MOVIE_SOURCE } from '../../src/movies/cache/movie-source';
import { MovieCacheStore, type FillResult } from '../../src/movies/cache/movie-cache.store';
import { REDIS_CLIENT } from '../../src/redis/redis-connection';
import { CacheManagerModule, RedisModule } from '../../src/redis/redis.module';
import { freePort } from '../../src/stack/free-port';
import { MovieSourceDouble } from './movie-source-double';
import { testConfig } from './test-env';

export interface CacheTestingModule {
  module: TestingModule;
  store: MovieCacheStore;
  counters: CacheCounters;
  redis: Redis;
  config: ResolvedAppConfig;
  /** MongoDB as the cache reads it. */
  source: MovieSourceDouble;
  /** Fills the movie's copy as a miss that began now would. */
  cacheCopy(movie: Movie): Promise<FillResult>;
  /** A write-through of a movie whose fence did not change while MongoDB saved it. */
  writeThrough(movie: Movie): Promise<boolean>;
}

/** The real movie-cache providers on the test Redis, plus whatever the unit under test needs. */
export async function cacheTestingModule(
  providers: Parameters<typeof Test.createTestingModule>[0]['providers'] = [],
  options: { redisUnreachable?: boolean; env?: Record<string, string>; hooks?: CacheHooks } = {},
): Promise<CacheTestingModule> {
  let config = testConfig({ REDIS_TIMEOUT_MS: '200', ...options.env });
  if (options.redisUnreachable)
    config = { ...config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
  const source = new MovieSourceDouble();
  const module = await Test.createTestingModule({
    imports: [
      ConfigModule.register(config),
      MetricsModule.register(new MetricsService()),
      RedisModule,
      CacheManagerModule,
      CacheHooksModule.register(options.hooks),
    ],
    providers: [
      ...MOVIE_CACHE_PROVIDERS,
      { provide: MOVIE_SOURCE, useValue: source },
      ...(providers ?? []),
    ],
  }).compile();
  await module.init();
  const store = module.get(MovieCacheStore);
  const leases = module.get(WriteFence);
  return {
    module,
    store,
    cacheCopy: async (movie) => store.fill(movie, await leases.current(movie.id)),
    writeThrough: async (movie) => {
      const nonce = WriteFence.generation();
      const began = await leases.beginWrite(movie.id, nonce);
      return store.endWrite(movie.id, began, nonce, movie);
    },
    counters: module.get(CacheCounters),
    redis: module.get(REDIS_CLIENT),
    config,
    source,
  };
}
