import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config';
import { CachePolicy } from '../cache-policy';
import {
  CacheStatus,
  CacheTier,
  type Movie,
  type NearCacheStats,
} from '../../../generated/nest/movies/v1/movie_service';
import { frozenAnswer, type CacheAsideResult } from '../read-outcome';

/** Past this many movies heard written, the ones whose window ended are forgotten. */
const WRITTEN_SWEEP_SIZE = 10_000;

/** A kept copy as its GetMovie answer, and when its Redis copy stops being fresh (performance.now()). */
export interface NearCopy {
  hit: CacheAsideResult;
  freshUntil: number;
}

/**
 * Rough heap size of a kept copy: its strings counted as UTF-16. V8 holds mostly one-byte
 * strings, which leaves room for the encoded answer.
 */
function movieBytes({ hit: { movie } }: NearCopy): number {
  let chars = movie.id.length + movie.title.length + movie.plot.length;
  for (const list of [movie.genres, movie.directors, movie.cast])
    for (const item of list) chars += item.length + 8;
  return 2 * chars + 256;
}

/**
 * The near-cache (L1): movies and title -> id in process memory, bounded by entries and bytes. It
 * serves only while the channel vouches for it (NearCacheLease), and keeps a copy only if no
 * invalidation arrived since its read began, so a slow read never overtakes a write.
 */
@Injectable()
export class NearCache {
  readonly enabled: boolean;
  private readonly movies: LRUCache<string, NearCopy>;
  private readonly titles: LRUCache<string, string>;
  private readonly counts = { hits: 0, misses: 0, evictions: 0, invalidations: 0 };
  private invalidationSeq = 0;
  private titleInvalidationSeq = 0;
  private servingUntil = 0;
  /** Movies being written, each until when (performance.now()): no unsettled copy of them is kept. */
  private readonly written = new Map<string, number>();
  private sweepAt = WRITTEN_SWEEP_SIZE;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly policy: CachePolicy,
  ) {
    const { enabled, maxEntries, maxBytes } = config.nearCache;
    this.enabled = enabled && config.cacheEnabled;
    const onDispose = (_value: unknown, _key: string, reason: LRUCache.DisposeReason) => {
      if (reason === 'evict') this.counts.evictions += 1;
    };
    this.movies = new LRUCache<string, NearCopy>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: movieBytes,
      ttl: policy.nearTtlMs,
      disposeAfter: onDispose,
    });
    this.titles = new LRUCache<string, string>({ max: maxEntries, ttl: policy.nearTtlMs });
  }

  /** Answering from process memory is allowed (enabled, and within the coherence lease). */
  get serving(): boolean {
    return this.enabled && performance.now() < this.servingUntil;
  }

  /**
   * The invalidation channel was heard: serve until `until` (performance.now() time). After a
   * lapse, invalidations may have been missed: what was kept before is forgotten.
   */
  extendLease(until: number): void {
    if (performance.now() >= this.servingUntil) this.clear();
    this.servingUntil = Math.max(this.servingUntil, until);
  }

  /** Invalidations may have been missed: stop serving and forget everything. */
  revoke(): void {
    this.servingUntil = 0;
    this.clear();
  }

  movie(id: string): NearCopy | undefined {
    if (!this.serving) return undefined;
    const copy = this.movies.get(id);
    if (copy) this.counts.hits += 1;
    else this.counts.misses += 1;
    return copy;
  }

  title(key: string): string | undefined {
    return this.serving ? this.titles.get(key) : undefined;
  }

  /** The copy `movie(id)` would return, without counting it or refreshing its recency. */
  peek(id: string): NearCopy | undefined {
    return this.serving ? this.movies.peek(id) : undefined;
  }

  /** The id `title(key)` would return, without refreshing its recency. */
  peekTitle(key: string): string | undefined {
    return this.serving ? this.titles.peek(key) : undefined;
  }

  /** How many invalidations so far: taken before a Redis read whose result may be kept here. */
  invalidationCount(): number {
    return this.invalidationSeq;
  }

  /**
   * Keeps a copy whose read began when the count was `seen` (none arrived since), for at most
   * `ttlMs`, its Redis copy's freshness. An unsettled copy (filled soon after its fence was made:
   * a write whose fence was lost may be in flight) only while no write of the movie is known.
   */
  keep(movie: Movie, ttlMs: number, seen: number, unsettled = false): void {
    if (!this.serving || seen !== this.invalidationSeq || ttlMs <= 0) return;
    if (unsettled && this.isWritten(movie.id)) return;
    const hit = frozenAnswer(movie, CacheStatus.CACHE_STATUS_HIT, CacheTier.CACHE_TIER_LOCAL);
    const copy = { hit, freshUntil: performance.now() + ttlMs };
    this.movies.set(movie.id, copy, { ttl: this.policy.nearTtl(ttlMs) });
  }

  /** How many title invalidations so far: taken before a resolution that may be kept here. */
  titleInvalidationCount(): number {
    return this.titleInvalidationSeq;
  }

  /** Keeps a title's id, resolved since the count was `seen` (no title was forgotten since). */
  keepTitle(key: string, id: string, seen: number): void {
    if (this.serving && seen === this.titleInvalidationSeq) this.titles.set(key, id);
  }

  /** A write changed this movie: drop its copy (and any copy whose read is in flight). */
  invalidate(id: string): void {
    this.invalidationSeq += 1;
    if (this.movies.delete(id)) this.counts.invalidations += 1;
    this.writing(id, this.policy.writeWindowMs);
  }

  /** A write of this movie may still reach MongoDB within `leftMs`. */
  writing(id: string, leftMs: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    // The channel's delay, on top: the window was measured on Redis's clock.
    const until = now + leftMs + this.policy.nearLeaseMs;
    this.written.set(id, Math.max(until, this.written.get(id) ?? 0));
    if (this.written.size > this.sweepAt) {
      for (const [written, end] of this.written) if (end <= now) this.written.delete(written);
      this.sweepAt = Math.max(WRITTEN_SWEEP_SIZE, 2 * this.written.size);
    }
  }

  private isWritten(id: string): boolean {
    const until = this.written.get(id);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.written.delete(id);
    return false;
  }

  forgetTitle(key: string): void {
    this.titleInvalidationSeq += 1;
    this.titles.delete(key);
  }

  clear(): void {
    this.invalidationSeq += 1;
    this.titleInvalidationSeq += 1;
    this.movies.clear();
    this.titles.clear();
  }

  stats(): NearCacheStats {
    return {
      enabled: this.enabled,
      serving: this.serving,
      ...this.counts,
      entries: this.movies.size,
      bytes: this.movies.calculatedSize,
    };
  }
}
