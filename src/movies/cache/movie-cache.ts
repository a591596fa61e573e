import { Inject, Injectable } from '@nestjs/common';
import { CancelledError, MovieNotFoundError, isRedisDown } from '../../common/errors';
import {
  CacheStatus,
  CacheTier,
  type NearCacheStats,
} from '../../generated/nest/movies/v1/movie_service';
import { describeLookup, type MovieLookup } from '../movie-lookup';
import { CacheCounters, type CacheCountersSnapshot } from './cache-counters';
import { CachePolicy } from './cache-policy';
import { lookupKeys, type LookupKeys } from './lookup-keys';
import { MovieCacheStore } from './movie-cache.store';
import { MOVIE_SOURCE, NO_DEADLINE, type MovieSource, type ReadDeadline } from './movie-source';
import { NearCache } from './near/near-cache';
import { ExternalWrites, type ExternalChange, type MovieTitle } from './external-writes';
import { BatchedReads } from './batched-reads';
import { ReadPipeline, type FirstReads } from './read-pipeline';
import { LogicalClock, answer, type CacheAsideResult } from './read-outcome';
import { cacheAttributes } from '../../telemetry/cache-attributes';
import { inSpan, telemetry } from '../../telemetry/tracer';
import { TitleMap } from './title-map';
import { TitleReads } from './title-reads';
import { WriteThroughHandler, type WriteThroughResult } from './write-through.handler';

export interface CacheStats {
  counters: CacheCountersSnapshot;
  ttlSeconds: number;
  near: NearCacheStats;
}

/** The copy a lookup would be answered with now, and the tier it is in. */
export interface PeekedCopy {
  id: string;
  revision: number;
  tier: CacheTier;
}

/** The movie cache as the rest of the service sees it: reads, the write-through, stats, upkeep. */
@Injectable()
export class MovieCache {
  constructor(
    private readonly pipeline: ReadPipeline,
    private readonly titles: TitleReads,
    private readonly writeThrough: WriteThroughHandler,
    private readonly counters: CacheCounters,
    private readonly near: NearCache,
    private readonly store: MovieCacheStore,
    private readonly clock: LogicalClock,
    private readonly policy: CachePolicy,
    private readonly external: ExternalWrites,
    private readonly titleMap: TitleMap,
    @Inject(MOVIE_SOURCE) private readonly source: MovieSource,
  ) {}

  /**
   * A near-cache hit, answered synchronously; null otherwise (then `read`, with the same keys). An
   * id needs no keys here: the hot path builds none.
   */
  nearHit(lookup: MovieLookup, keys?: LookupKeys): CacheAsideResult | null {
    if (lookup.kind === 'id') return this.pipeline.nearHit(lookup.id);
    return this.titles.nearHit(lookup, keys ?? lookupKeys(lookup));
  }

  /**
   * Past the near-cache: Redis, then MongoDB on a miss; from MongoDB alone (BYPASS) without
   * Redis. MongoDB is read only within `deadline` (the call's; past once it is cancelled).
   */
  read(
    lookup: MovieLookup,
    keys?: LookupKeys,
    deadline: ReadDeadline = NO_DEADLINE,
    reads: FirstReads = this.source,
  ): Promise<CacheAsideResult> {
    // Untraced (the default), a read is not wrapped: a Redis hit is a few promises fewer.
    if (!telemetry.enabled) return this.readPastNear(lookup, keys, deadline, reads);
    return inSpan(
      'cache.lookup',
      async (span) => {
        const result = await this.readPastNear(lookup, keys, deadline, reads);
        span?.setAttributes(cacheAttributes(result));
        return result;
      },
      { attributes: { 'cache.lookup': lookup.kind } },
    );
  }

  /**
   * Reads several lookups as `read` reads each, tier by tier together: the near-cache, then one
   * command per lookup sent together to Redis, then the misses' MongoDB reads as one query. A
   * lookup that fails alone is its own Error; a call cancelled or past its deadline fails them all.
   */
  readMany(
    lookups: MovieLookup[],
    deadline: ReadDeadline = NO_DEADLINE,
  ): Promise<Array<CacheAsideResult | Error>> {
    const reads = new BatchedReads(this.source);
    return Promise.all(
      lookups.map((lookup) => {
        const keys = lookup.kind === 'title' ? lookupKeys(lookup) : undefined;
        const hit = this.nearHit(lookup, keys);
        if (hit) return hit;
        return this.read(lookup, keys, deadline, reads).catch((error: unknown) => {
          if (error instanceof CancelledError || !(error instanceof Error)) throw error;
          return error;
        });
      }),
    );
  }

  private readPastNear(
    lookup: MovieLookup,
    keys: LookupKeys | undefined,
    deadline: ReadDeadline,
    reads: FirstReads,
  ): Promise<CacheAsideResult> {
    const arrivedAt = this.clock.tick();
    const outcome =
      lookup.kind === 'id'
        ? this.pipeline.read(lookup.id, arrivedAt, true, deadline, reads)
        : this.titles.read(lookup, keys ?? lookupKeys(lookup), arrivedAt, deadline, reads);
    // Chained, not awaited: a Redis hit goes through no async frame of its own.
    return outcome.then(
      (read) => {
        if (read.kind === 'absent') throw new MovieNotFoundError(describeLookup(lookup));
        return read.result;
      },
      (error: unknown) => {
        if (!isRedisDown(error)) throw error;
        return this.bypass(lookup, deadline, reads);
      },
    );
  }

  private async bypass(
    lookup: MovieLookup,
    deadline: ReadDeadline,
    reads: FirstReads,
  ): Promise<CacheAsideResult> {
    const movie =
      lookup.kind === 'id'
        ? await reads.findById(lookup.id, deadline)
        : await this.source.findByTitle(lookup.title, lookup.year, deadline);
    if (!movie) throw new MovieNotFoundError(describeLookup(lookup));
    return answer(movie, CacheStatus.CACHE_STATUS_BYPASS);
  }

  /** Counts an answer (hit, miss, bypass, stale) for every instance's counters. */
  count(status: CacheStatus): void {
    this.counters.record(status);
  }

  updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    return this.writeThrough.updateRating(id, rating);
  }

  /** Counters of every instance (as Redis last gave them when it cannot be read), and this near-cache's. */
  async stats(redisOk: boolean): Promise<CacheStats> {
    const counters = redisOk
      ? await this.counters.read().catch(() => this.counters.lastKnown())
      : this.counters.lastKnown();
    // The TTL in force as an instance published it, else this one's.
    const ttlSeconds = counters.ttlSeconds ?? this.policy.ttlSeconds;
    return { counters, ttlSeconds, near: this.near.stats() };
  }

  /** This instance's near-cache (for the gauges). */
  nearStats(): NearCacheStats {
    return this.near.stats();
  }

  /** Publishes the TTL in force and the status (while Redis answers). */
  publishState(status: 'ok' | 'degraded'): Promise<void> {
    return this.counters.publishState(status);
  }

  /** Movies written outside the service: no instance serves what was cached of them before. */
  applyExternalWrites(changes: ExternalChange[]): Promise<void> {
    return this.external.apply(changes);
  }

  /**
   * The copy this instance would answer `lookup` with now (near-cache, then a fresh Redis copy),
   * without counting, keeping or refreshing anything; null when it would ask MongoDB.
   */
  async peek(lookup: MovieLookup): Promise<PeekedCopy | null> {
    const key = lookup.kind === 'title' ? lookupKeys(lookup).title : '';
    const id =
      lookup.kind === 'id'
        ? lookup.id
        : (this.near.peekTitle(key) ?? (await this.titleMap.resolve(key)));
    if (!id) return null;
    const near = this.near.peek(id);
    if (near) return { id, revision: near.hit.movie.revision, tier: CacheTier.CACHE_TIER_LOCAL };
    const cached = await this.store.read(id);
    if (cached.kind !== 'hit' || cached.ttlMs <= 0) return null;
    return { id, revision: cached.copy.ref.revision, tier: CacheTier.CACHE_TIER_REDIS };
  }

  /**
   * A copy found older than MongoDB: repaired as a write made outside the service (Redis's copy
   * and every near copy dropped unless Redis's is MongoDB's; `title` forgotten everywhere), and
   * this instance's near copy dropped in any case.
   */
  async heal(id: string, title?: MovieTitle): Promise<void> {
    await this.external.apply([{ id, titles: [] }, ...(title ? [{ titles: [title] }] : [])]);
    this.near.invalidate(id);
  }

  /** Writes may have gone unseen: nothing cached before now is served or stored. */
  flush(): Promise<void> {
    return this.external.flush();
  }

  /** Drops the copies of `ids` here and in Redis (a cold start, for the benchmark). */
  async evict(ids: string[]): Promise<void> {
    await this.store.evict(ids);
    for (const id of ids) this.near.invalidate(id);
  }
}
