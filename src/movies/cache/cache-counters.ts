import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { CacheStatus } from '../../generated/nest/movies/v1/movie_service';
import {
  STATS_BYPASSES_KEY,
  STATS_HITS_KEY,
  STATS_MISSES_KEY,
  SYSTEM_STATUS_KEY,
  TTL_SETTING_KEY,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';

export interface CacheCountersSnapshot {
  hits: number;
  misses: number;
  bypasses: number;
  ttlSeconds?: number;
}

type Tally = Pick<CacheCountersSnapshot, 'hits' | 'misses' | 'bypasses'>;

/**
 * Hit/miss/bypass counters of all instances, as Redis strings. Each lookup is counted in process
 * and added to Redis every VIEW_FLUSH_MS (one INCRBY each), so a hit costs no Redis command; a
 * read includes what this instance has not flushed yet. Also publishes settings and status.
 */
@Injectable()
export class CacheCounters implements OnModuleInit, OnModuleDestroy {
  private pending: Tally = { hits: 0, misses: 0, bypasses: 0 };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.flush().catch(() => undefined),
      this.config.viewFlushMs,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }

  record(status: CacheStatus): void {
    if (status === CacheStatus.CACHE_STATUS_HIT) this.pending.hits += 1;
    else if (status === CacheStatus.CACHE_STATUS_MISS) this.pending.misses += 1;
    else if (status === CacheStatus.CACHE_STATUS_BYPASS) this.pending.bypasses += 1;
  }

  /** Adds what was counted since the last flush to the Redis strings; kept for later on failure. */
  async flush(): Promise<void> {
    const tally = this.pending;
    if (tally.hits + tally.misses + tally.bypasses === 0) return;
    this.pending = { hits: 0, misses: 0, bypasses: 0 };
    try {
      await this.redis.run('counters', (redis) =>
        redis
          .multi()
          .incrby(STATS_HITS_KEY, tally.hits)
          .incrby(STATS_MISSES_KEY, tally.misses)
          .incrby(STATS_BYPASSES_KEY, tally.bypasses)
          .exec(),
      );
    } catch (error) {
      this.pending.hits += tally.hits;
      this.pending.misses += tally.misses;
      this.pending.bypasses += tally.bypasses;
      throw error;
    }
  }

  /** Called while Redis answers: publishes the TTL in force and the status. */
  async publishState(status: 'ok' | 'degraded'): Promise<void> {
    await this.redis.run('counters', (redis) =>
      redis
        .multi()
        .set(TTL_SETTING_KEY, String(this.ttl.baseSeconds))
        .set(SYSTEM_STATUS_KEY, status)
        .exec(),
    );
  }

  /** The Redis strings plus what this instance has not flushed yet. */
  async read(): Promise<CacheCountersSnapshot> {
    const [hits, misses, bypasses, ttl] = await this.redis.run('counters', (redis) =>
      redis.mget(STATS_HITS_KEY, STATS_MISSES_KEY, STATS_BYPASSES_KEY, TTL_SETTING_KEY),
    );
    return {
      hits: Number(hits ?? 0) + this.pending.hits,
      misses: Number(misses ?? 0) + this.pending.misses,
      bypasses: Number(bypasses ?? 0) + this.pending.bypasses,
      ttlSeconds: ttl === null ? undefined : Number(ttl),
    };
  }

  /** Counters without Redis: only what this process has not flushed. */
  local(): CacheCountersSnapshot {
    return { ...this.pending };
  }
}
