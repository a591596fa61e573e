import { Inject, Injectable, Logger } from '@nestjs/common';
import { DependencyUnavailableError, MovieNotFoundError } from '../../common/errors';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { CacheStatus, type Movie } from '../../generated/nest/movies/v1/movie_service';
import { sleep } from '../../common/sleep';
import { describeLookup, type MovieLookup } from '../movie-lookup';
import { CacheCounters } from './cache-counters';
import { FILL_HOOK, type FillHook } from './fill-hook';
import { FillLeases } from './fill-leases';
import { lookupKeys, type LookupKeys } from './lookup-keys';
import { MovieCacheStore } from './movie-cache.store';
import { NegativeCache } from './negative-cache';
import { OutageLedger } from './outage-ledger';
import { TitleMap } from './title-map';

const isRedisDown = (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === 'Redis';

const LEASE_POLL_MS = 10;

export type Load = () => Promise<Movie>;

export interface CacheAsideResult {
  movie: Movie;
  cacheStatus: CacheStatus;
}

/**
 * Reads a movie through the cache: Redis first; on a miss `load` (MongoDB) runs and its result is
 * stored with a jittered TTL. Concurrent misses for one key make one MongoDB read: in this process
 * by single-flight, across instances by a short Redis lease. Unknown movies are remembered as
 * absent for a while. With Redis away the loaded movie is served as BYPASS.
 */
@Injectable()
export class CacheAsideReader {
  private readonly logger = new Logger(CacheAsideReader.name);
  private readonly inflight = new Map<string, Promise<CacheAsideResult>>();

  constructor(
    private readonly store: MovieCacheStore,
    private readonly titles: TitleMap,
    private readonly negative: NegativeCache,
    private readonly leases: FillLeases,
    private readonly ledger: OutageLedger,
    private readonly counters: CacheCounters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILL_HOOK) private readonly fillHook: FillHook,
  ) {}

  async read(lookup: MovieLookup, load: Load): Promise<CacheAsideResult> {
    try {
      const cached = await this.readCached(lookup);
      if (cached) return { movie: cached, cacheStatus: CacheStatus.CACHE_STATUS_HIT };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }
    const keys = lookupKeys(lookup);
    const running = this.inflight.get(keys.lease);
    if (running) return running;
    const miss = this.missOnce(lookup, keys, load).finally(() => this.inflight.delete(keys.lease));
    this.inflight.set(keys.lease, miss);
    return miss;
  }

  /** Every read from MongoDB, no cache: the uncached baseline, and the fallback without Redis. */
  async bypass(load: Load): Promise<CacheAsideResult> {
    this.logger.debug('reading from MongoDB only');
    const movie = await load();
    this.counters.recordBypass();
    return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
  }

  /** Null on a miss; throws NOT_FOUND for a lookup remembered as absent. */
  private async readCached(lookup: MovieLookup): Promise<Movie | null> {
    let id = lookup.kind === 'id' ? lookup.id : undefined;
    if (lookup.kind === 'title') {
      id = await this.titles.resolve(lookup.title, lookup.year);
      const { tag, year } = lookupKeys(lookup);
      if (!id && (await this.negative.isAbsent(tag, year))) {
        throw new MovieNotFoundError(describeLookup(lookup));
      }
    }
    // A copy cached before an outage in which this id was written may be stale: read MongoDB.
    if (!id || this.ledger.isDirty(id)) return null;
    const cached = await this.store.read(id);
    if (cached.kind === 'absent') throw new MovieNotFoundError(describeLookup(lookup));
    return cached.kind === 'hit' ? cached.movie : null;
  }

  /** The one miss for this key in this process: lease, read MongoDB, fill, release. */
  private async missOnce(
    lookup: MovieLookup,
    keys: LookupKeys,
    load: Load,
  ): Promise<CacheAsideResult> {
    let lease: string | null | undefined;
    try {
      lease = await this.leases.acquire(keys.lease);
      if (lease === null) {
        const filled = await this.awaitOtherFill(lookup);
        if (filled) return { movie: filled, cacheStatus: CacheStatus.CACHE_STATUS_HIT };
      }
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }
    try {
      return await this.loadAndFill(lookup, keys, load);
    } finally {
      if (lease) await this.leases.release(keys.lease, lease).catch(() => undefined);
    }
  }

  /** Another instance holds the lease: wait for its fill, up to the lease time. */
  private async awaitOtherFill(lookup: MovieLookup): Promise<Movie | null> {
    const deadline = Date.now() + this.config.fillLeaseMs;
    while (Date.now() < deadline) {
      await sleep(LEASE_POLL_MS);
      const movie = await this.readCached(lookup);
      if (movie) return movie;
    }
    return null;
  }

  private async loadAndFill(
    lookup: MovieLookup,
    keys: LookupKeys,
    load: Load,
  ): Promise<CacheAsideResult> {
    let movie: Movie;
    try {
      movie = await load();
    } catch (error) {
      if (error instanceof MovieNotFoundError)
        await this.negative.remember(keys.tag, keys.year).catch(() => undefined);
      throw error;
    }
    try {
      await this.fillHook.beforeFill(movie);
      const stored = await this.store.fill(movie);
      await this.ledger.settle(movie.id, stored);
      if (lookup.kind === 'title') await this.titles.remember(lookup.title, lookup.year, movie.id);
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      this.counters.recordBypass();
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
    }
  }
}
