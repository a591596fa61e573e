import { Injectable } from '@nestjs/common';
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

/** Hit/miss/bypass counters and the published settings and status, as Redis strings. */
@Injectable()
export class CacheCounters {
  /** Bypasses counted while Redis was away, added to stats:bypasses once it is back. */
  private pendingBypasses = 0;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
  ) {}

  recordBypass(): void {
    this.pendingBypasses += 1;
  }

  /** Called while Redis answers: publishes settings and status, flushes pending bypasses. */
  async publishState(status: 'ok' | 'degraded'): Promise<void> {
    const pending = this.pendingBypasses;
    await this.redis.run('cache', (redis) => {
      const transaction = redis
        .multi()
        .set(TTL_SETTING_KEY, String(this.ttl.baseSeconds))
        .set(SYSTEM_STATUS_KEY, status);
      if (pending > 0) transaction.incrby(STATS_BYPASSES_KEY, pending);
      return transaction.exec();
    });
    this.pendingBypasses -= pending;
  }

  async read(): Promise<CacheCountersSnapshot> {
    const [hits, misses, bypasses, ttl] = await this.redis.run('cache', (redis) =>
      redis.mget(STATS_HITS_KEY, STATS_MISSES_KEY, STATS_BYPASSES_KEY, TTL_SETTING_KEY),
    );
    return {
      hits: Number(hits ?? 0),
      misses: Number(misses ?? 0),
      bypasses: Number(bypasses ?? 0) + this.pendingBypasses,
      ttlSeconds: ttl === null ? undefined : Number(ttl),
    };
  }

  /** Counters without Redis: only what this process saw. */
  local(): CacheCountersSnapshot {
    return { hits: 0, misses: 0, bypasses: this.pendingBypasses };
  }
}
