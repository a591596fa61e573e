import { Injectable } from '@nestjs/common';
import { context, trace, type SpanContext } from '@opentelemetry/api';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import { telemetry } from '../../telemetry/tracer';
import type { MovieLookup } from '../movie-lookup';
import { ConsistencyPolicy } from './consistency-policy';

/** One sampled hit: what was asked, which copy answered it, from where, and when it was asked. */
export interface Observation {
  lookup: MovieLookup;
  id: string;
  revision: number;
  tier: CacheTier;
  /** performance.now() when the call arrived (before the cache was read). */
  at: number;
  /** The call's span, when it was traced: the inconsistency's trace links to it. */
  served?: SpanContext;
}

const TIER_LABEL: Partial<Record<CacheTier, string>> = {
  [CacheTier.CACHE_TIER_LOCAL]: 'local',
  [CacheTier.CACHE_TIER_REDIS]: 'redis',
};
export const tierLabel = (tier: CacheTier): string => TIER_LABEL[tier] ?? 'unspecified';

/**
 * Records a fraction of GetMovie's cache hits for the consistency checker, off the hot path's
 * cost: a hit not sampled costs a decrement; a sampled one, one object in a bounded ring.
 */
@Injectable()
export class ConsistencySampler {
  private countdown: number;
  private readonly ring: Array<Observation | undefined>;
  private written = 0;
  private second = -1;
  private inSecond = 0;
  private dropped = 0;

  constructor(
    private readonly policy: ConsistencyPolicy,
    private readonly metrics: MetricsService,
  ) {
    this.countdown = policy.nextGap();
    this.ring = new Array<Observation | undefined>(policy.enabled ? policy.capacity : 0);
  }

  /** An answer GetMovie served; `arrivedAt` (performance.now()) unless it was served at once. */
  sample(
    lookup: MovieLookup,
    answer: GetMovieResponse & { movie: Movie },
    arrivedAt?: number,
  ): void {
    if (--this.countdown > 0) return;
    this.countdown = this.policy.nextGap();
    if (answer.cacheStatus === CacheStatus.CACHE_STATUS_HIT) this.record(lookup, answer, arrivedAt);
  }

  private record(
    lookup: MovieLookup,
    answer: GetMovieResponse & { movie: Movie },
    arrivedAt?: number,
  ): void {
    const now = performance.now();
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.inSecond = 0;
    }
    if (this.inSecond >= this.policy.maxPerSecond) {
      this.dropped += 1;
      return;
    }
    this.inSecond += 1;
    const { id, revision } = answer.movie;
    const served = telemetry.enabled ? trace.getSpan(context.active())?.spanContext() : undefined;
    const tier = answer.cacheTier;
    this.ring[this.written % this.ring.length] = {
      lookup,
      id,
      revision,
      tier,
      at: arrivedAt ?? now,
      served,
    };
    this.written += 1;
    this.metrics.consistencySamples.inc({ tier: tierLabel(tier) });
  }

  /** Samples recorded so far; the nth (from 0) is `observation(n)` while the ring still holds it. */
  get recorded(): number {
    return this.written;
  }

  /** The nth sample recorded, or undefined once the ring has overwritten it. */
  observation(n: number): Observation | undefined {
    if (n >= this.written || n < this.written - this.ring.length) return undefined;
    return this.ring[n % this.ring.length];
  }

  counts(): { samples: number; dropped: number } {
    return { samples: this.written, dropped: this.dropped };
  }
}
