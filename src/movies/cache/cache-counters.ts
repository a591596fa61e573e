import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { CacheStatus } from '../../generated/nest/movies/v1/movie_service';
import {
  STATS_BYPASSES_KEY,
  STATS_HITS_KEY,
  STATS_MISSES_KEY,
  STATS_STALE_KEY,
  SYSTEM_STATUS_KEY,
  TTL_SETTING_KEY,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CachePolicy } from './cache-policy';

export interface CacheCountersSnapshot {
  hits: number;
  misses: number;
  bypasses: number;
  stale: number;
  ttlSeconds?: number;
}

type Tally = Omit<CacheCountersSnapshot, 'ttlSeconds'>;
const NONE: Tally = { hits: 0, misses: 0, bypasses: 0, stale: 0 };
const KEYS: Record<keyof Tally, string> = {
  hits: STATS_HITS_KEY,
  misses: STATS_MISSES_KEY,
  bypasses: STATS_BYPASSES_KEY,
  stale: STATS_STALE_KEY,
};
const FIELD: Partial<Record<CacheStatus, keyof Tally>> = {
  [CacheStatus.CACHE_STATUS_HIT]: 'hits',
  [CacheStatus.CACHE_STATUS_MISS]: 'misses',
  [CacheStatus.CACHE_STATUS_BYPASS]: 'bypasses',
  [CacheStatus.CACHE_STATUS_STALE]: 'stale',
};

/**
 * Hit/miss/bypass/stale counters of all instances: counted in process, added to Redis every
 * VIEW_FLUSH_MS (one INCRBY per counter), so a hit costs no Redis command and no key runs hot.
 */
@Injectable()
export class CacheCounters implements OnModuleInit, OnModuleDestroy {
  private pending: Tally = { ...NONE };
  // The totals Redis last reported (INCRBY and GET replies): what is shown when it cannot be read.
  private known: Tally = { ...NONE };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly policy: CachePolicy,
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
    const field = FIELD[status];
    if (field) this.pending[field] += 1;
  }

  /** Adds what was counted since the last flush to the Redis strings; what failed is kept for later. */
  async flush(): Promise<void> {
    const tally = this.pending;
    const counted = (Object.keys(tally) as Array<keyof Tally>).filter((field) => tally[field] > 0);
    if (counted.length === 0) return;
    this.pending = { ...NONE };
    // One breaker call per flush, as one transaction was; each counter is its own command.
    let sent = false;
    try {
      await this.redis.run('counters', async (redis) => {
        sent = true;
        const added = await Promise.allSettled(
          counted.map((field) => redis.incrby(KEYS[field], tally[field])),
        );
        counted.forEach((field, i) => {
          const reply = added[i];
          if (reply.status === 'rejected') this.pending[field] += tally[field];
          else this.known[field] = reply.value;
        });
        const failure = added.find((a): a is PromiseRejectedResult => a.status === 'rejected');
        if (failure) throw failure.reason;
      });
    } catch (error) {
      // Not sent at all (the breaker is open): everything is kept.
      if (!sent) for (const field of counted) this.pending[field] += tally[field];
      throw error;
    }
  }

  /** Called while Redis answers: publishes the TTL in force and the status. */
  async publishState(status: 'ok' | 'degraded'): Promise<void> {
    await this.redis.run('counters', (redis) =>
      Promise.all([
        redis.set(TTL_SETTING_KEY, String(this.policy.ttlSeconds)),
        redis.set(SYSTEM_STATUS_KEY, status),
      ]),
    );
  }

  /** The Redis strings plus what this instance has not flushed yet. */
  async read(): Promise<CacheCountersSnapshot> {
    const fields = Object.keys(KEYS) as Array<keyof Tally>;
    const keys = [...fields.map((field) => KEYS[field]), TTL_SETTING_KEY];
    const values = await this.redis.run('counters', (redis) =>
      Promise.all(keys.map((key) => redis.get(key))),
    );
    fields.forEach((field, i) => (this.known[field] = Number(values[i] ?? 0)));
    const ttl = values[fields.length];
    return { ...this.lastKnown(), ttlSeconds: ttl === null ? undefined : Number(ttl) };
  }

  /** Counters when Redis cannot be read: the totals it last reported plus what is unflushed. */
  lastKnown(): CacheCountersSnapshot {
    const snapshot: Tally = { ...NONE };
    for (const field of Object.keys(KEYS) as Array<keyof Tally>)
      snapshot[field] = this.known[field] + this.pending[field];
    return snapshot;
  }

  /** What this process counted and has not added to Redis yet. */
  unflushed(): CacheCountersSnapshot {
    return { ...this.pending };
  }
}
