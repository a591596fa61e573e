import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { GetCacheStatsResponse } from '../generated/nest/movies/v1/movie_service';
import { CacheCounters } from '../movies/cache/cache-counters';
import { NearCache } from '../movies/cache/near-cache';
import { TrendingFeed } from '../trending/trending-feed.service';
import { HealthMonitor } from './health.monitor';

@Injectable()
export class CacheStatsService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly counters: CacheCounters,
    private readonly near: NearCache,
    private readonly health: HealthMonitor,
    private readonly trending: TrendingFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Counters from the Redis strings, with a live check of both dependencies. */
  async getCacheStats(): Promise<GetCacheStatsResponse> {
    const { redisOk, mongoOk } = await this.health.check();
    const counters = redisOk
      ? await this.counters.read().catch(() => this.counters.local())
      : this.counters.local();
    const lookups = counters.hits + counters.misses;
    return {
      hits: counters.hits,
      misses: counters.misses,
      bypasses: counters.bypasses,
      stale: counters.stale,
      hitRatio: lookups === 0 ? 0 : counters.hits / lookups,
      ttlSeconds: counters.ttlSeconds ?? this.config.cacheTtlSeconds,
      redisOk,
      mongoOk,
      status: redisOk && mongoOk ? 'ok' : 'degraded',
      startedAtUnixMs: this.startedAt,
      trendingStreams: this.trending.openStreams,
      nearCache: this.near.stats(),
    };
  }
}
