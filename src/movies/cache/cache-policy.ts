import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { REPLICA_WAIT_MS } from '../../redis/replica-ack';

/** Weight of the newest sample in the moving average of a miss's cost. */
const MISS_COST_WEIGHT = 0.1;

/**
 * Every TTL, grace, lease and timeout of the movie cache, and the arithmetic on them. Everyone
 * else asks it; Lua scripts receive its numbers already computed.
 */
@Injectable()
export class CachePolicy {
  /** CACHE_TTL_SECONDS: how long a copy is fresh, before jitter. */
  readonly ttlSeconds: number;
  /** How long a copy past its TTL is kept, to be served only if MongoDB fails (CACHE_GRACE_SECONDS). */
  readonly graceMs: number;
  /** How long a lookup that found nothing is remembered (0: not at all). */
  readonly negativeTtlSeconds: number;
  /** How long one instance may fill a cold lookup while the others wait for it. */
  readonly fillLeaseMs: number;
  /** How long a miss of an expired copy waits for MongoDB before the graced copy is served. */
  readonly softTimeoutMs: number;
  /** A near-cache entry lives at most this long, and never past its Redis copy's freshness. */
  readonly nearTtlMs: number;
  /** How long an instance serves its near-cache without hearing the invalidation channel. */
  readonly nearLeaseMs: number;
  /**
   * How long a write fence outlives its last use: ten times the longest miss (lease wait plus a
   * MongoDB read), so a fence is not lost under a running miss except by eviction.
   */
  readonly fenceSeconds: number;
  /**
   * How long an UpdateRating holds its movie's fence pending once it began: the wait for every
   * near-cache (its lease at most), a replica's ack, and MongoDB's write, which is cut off
   * (maxTimeMS) before the window ends. No fill is stored meanwhile.
   */
  readonly writeWindowMs: number;
  /** How long an UpdateRating keeps trying to begin (a Redis failover, a pause) before UNAVAILABLE. */
  readonly writeBeginBudgetMs: number;
  private missCostMs = 5;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.ttlSeconds = config.cacheTtlSeconds;
    this.negativeTtlSeconds = config.negativeTtlSeconds;
    this.graceMs = config.cacheGraceSeconds * 1000;
    this.fillLeaseMs = config.fillLeaseMs;
    this.softTimeoutMs = config.cacheSoftTimeoutMs;
    this.nearTtlMs = config.nearCache.ttlMs;
    this.nearLeaseMs = config.nearCache.leaseMs;
    this.writeWindowMs =
      config.nearCache.leaseMs + REPLICA_WAIT_MS + config.redisTimeoutMs + config.mongoTimeoutMs;
    this.writeBeginBudgetMs = Math.max(2_000, 4 * config.redisTimeoutMs);
    this.fenceSeconds = Math.max(
      10,
      Math.ceil((10 * (config.fillLeaseMs + config.mongoTimeoutMs)) / 1000),
      Math.ceil((2 * this.writeWindowMs) / 1000),
    );
  }

  /** MongoDB's share of a write that began at `begunAt` (performance.now()): its deadline. */
  writeDeadline(begunAt: number): number {
    return begunAt + this.writeWindowMs - this.config.redisTimeoutMs;
  }

  /** A copy's TTL, varied by up to ±CACHE_TTL_JITTER so keys filled together expire apart. */
  jitteredTtlSeconds(): number {
    const jitter = this.config.cacheTtlJitter * (2 * Math.random() - 1);
    return Math.max(1, Math.round(this.ttlSeconds * (1 + jitter)));
  }

  /** How long a new copy is fresh: a jittered TTL (then it is kept for graceMs more). */
  freshMs(): number {
    return this.jitteredTtlSeconds() * 1000;
  }

  /** How long a near-cache entry of a copy fresh for `remainingMs` more may live. */
  nearTtl(remainingMs: number): number {
    return Math.min(remainingMs, this.nearTtlMs);
  }

  /** A miss (MongoDB read and fill) took this long. */
  observeMiss(ms: number): void {
    this.missCostMs += MISS_COST_WEIGHT * (ms - this.missCostMs);
  }

  /**
   * Whether a hit on a copy fresh for `remainingMs` more refreshes it in the background:
   * REFRESH_AHEAD=fraction once less than REFRESH_AHEAD_FRACTION of the TTL is left; `xfetch`
   * with a probability that rises as expiry nears, scaled by what a miss costs here.
   */
  refreshDue(remainingMs: number): boolean {
    const { mode, beta, fraction } = this.config.refreshAhead;
    if (mode === 'fraction') return remainingMs <= fraction * this.ttlSeconds * 1000;
    if (mode === 'xfetch') return remainingMs <= this.missCostMs * beta * -Math.log(Math.random());
    return false;
  }
}
