import { Injectable } from '@nestjs/common';
import type { GetCacheStatsResponse } from '../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../metrics/metrics.service';
import { MovieCache } from '../movies/cache/movie-cache';
import { ChangeFeed } from '../movies/change-feed/change-feed.service';
import { ConsistencyChecker } from '../movies/consistency/consistency-checker';
import { TrendingFeed } from '../trending/trending-feed.service';
import { HealthMonitor } from './health.monitor';

@Injectable()
export class CacheStatsService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly cache: MovieCache,
    private readonly health: HealthMonitor,
    private readonly trending: TrendingFeed,
    private readonly feed: ChangeFeed,
    private readonly consistency: ConsistencyChecker,
    metrics: MetricsService,
  ) {
    metrics.nearCacheState = () => this.cache.nearStats();
  }

  /** Counters from the Redis strings, with a live check of both dependencies. */
  async getCacheStats(): Promise<GetCacheStatsResponse> {
    const { redisOk, mongoOk } = await this.health.check();
    const { counters, ttlSeconds, near } = await this.cache.stats(redisOk);
    const lookups = counters.hits + counters.misses;
    return {
      hits: counters.hits,
      misses: counters.misses,
      bypasses: counters.bypasses,
      stale: counters.stale,
      hitRatio: lookups === 0 ? 0 : counters.hits / lookups,
      ttlSeconds,
      redisOk,
      mongoOk,
      status: redisOk && mongoOk ? 'ok' : 'degraded',
      startedAtUnixMs: this.startedAt,
      trendingStreams: this.trending.openStreams,
      nearCache: near,
      changeFeed: this.feed.stats(),
      consistency: this.consistency.stats(),
    };
  }
}
