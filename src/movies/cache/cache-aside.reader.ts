import { Injectable } from '@nestjs/common';
import { DependencyUnavailableError, MovieNotFoundError } from '../../common/errors';
import { poll } from '../../common/sleep';
import { CacheStatus, CacheTier, type Movie } from '../../generated/nest/movies/v1/movie_service';
import { leaseKey, titleKey } from '../../redis/cache-keys';
import { describeLookup, type MovieLookup } from '../movie-lookup';
import { MoviesRepository } from '../movies.repository';
import { CacheMisses, type TitleResolution } from './cache-misses';
import { CachePolicy } from './cache-policy';
import { CachedCopies, type GracedCopy } from './cached-copies';
import { lookupKeys } from './lookup-keys';
import { NearCache } from './near-cache';
import { NegativeCache } from './negative-cache';
import {
  LogicalClock,
  MissFlights,
  answer,
  miss,
  type CacheAsideResult,
  type ReadOutcome,
} from './read-outcome';
import { TitleMap } from './title-map';

const isDown = (dependency: 'Redis' | 'MongoDB') => (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === dependency;
const isRedisDown = isDown('Redis');
const isMongoDown = isDown('MongoDB');

const POLL_MS = 10;

export type Load = () => Promise<Movie>;

/**
 * Reads a movie through the cache: the near-cache, then Redis (CachedCopies); on a miss one
 * MongoDB read per key (single flight in the process, a Redis lease across instances) and a fill
 * fenced against writes (CacheMisses). A title resolves to an id (title map, or the title query
 * on a miss) and is then read as that id. Every answer is handed only to requests that arrived
 * before it was read (ReadOutcome). A copy past its TTL is served as STALE while MongoDB fails;
 * with Redis away, the handler's MongoDB read is served as BYPASS.
 */
@Injectable()
export class CacheAsideReader {
  private readonly flights = new MissFlights();

  constructor(
    private readonly copies: CachedCopies,
    private readonly titles: TitleMap,
    private readonly negative: NegativeCache,
    private readonly near: NearCache,
    private readonly misses: CacheMisses,
    private readonly clock: LogicalClock,
    private readonly repository: MoviesRepository,
    private readonly policy: CachePolicy,
  ) {}

  /** A near-cache hit, answered synchronously; null otherwise (then `read`). */
  local(lookup: MovieLookup): CacheAsideResult | null {
    const id =
      lookup.kind === 'id' ? lookup.id : this.near.title(titleKey(lookup.title, lookup.year));
    if (!id) return null;
    const local = this.copies.local(id, this.clock.tick());
    return local?.kind === 'movie' ? local.result : null;
  }

  /**
   * Asked once `local` found nothing (so an id is not looked up, or counted, twice in the
   * near-cache). `load` is the GetMovie handler: the lookup as asked, read from MongoDB.
   */
  async read(lookup: MovieLookup, load: Load): Promise<CacheAsideResult> {
    const arrival = this.clock.tick();
    let outcome: ReadOutcome;
    try {
      outcome =
        lookup.kind === 'id'
          ? await this.readFromRedis(lookup.id, arrival, load)
          : await this.readTitle(lookup, arrival, load);
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }
    if (outcome.kind === 'absent') throw new MovieNotFoundError(describeLookup(lookup));
    return outcome.result;
  }

  /** Straight from MongoDB: the uncached baseline, and the fallback without Redis. */
  async bypass(load: Load): Promise<CacheAsideResult> {
    return answer(await load(), CacheStatus.CACHE_STATUS_BYPASS);
  }

  private async readId(id: string, arrival: number, load: Load): Promise<ReadOutcome> {
    return this.copies.local(id, arrival) ?? this.readFromRedis(id, arrival, load);
  }

  /** Redis, then on a miss MongoDB (one read per id across the fleet). */
  private async readFromRedis(id: string, arrival: number, load: Load): Promise<ReadOutcome> {
    const cached = await this.copies.read(id);
    if (cached && cached.kind !== 'graced') return cached;
    const miss = this.flights.run(
      leaseKey(id),
      arrival,
      () => this.misses.byId(id, load, () => this.copies.awaitFill(id)),
      () => this.readId(id, arrival, load),
    );
    return cached?.servable ? this.missOrStale(miss, cached) : miss;
  }

  /**
   * A copy past its TTL is refreshed from MongoDB as a miss; if MongoDB fails or is slower than
   * CACHE_SOFT_TIMEOUT_MS, the graced copy is served as STALE (the miss goes on in the background).
   * While MongoDB's last answer was "unreachable", STALE is served at once.
   */
  private async missOrStale(miss: Promise<ReadOutcome>, graced: GracedCopy): Promise<ReadOutcome> {
    const stale: ReadOutcome = {
      kind: 'movie',
      result: answer(graced.movie, CacheStatus.CACHE_STATUS_STALE, CacheTier.CACHE_TIER_REDIS),
      freshAsOf: graced.freshAsOf,
    };
    if (this.repository.unavailable) {
      miss.catch(() => undefined);
      return stale;
    }
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.policy.softTimeoutMs);
    });
    try {
      const first = await Promise.race([miss, soft]);
      if (first) return first;
      miss.catch(() => undefined);
      return stale;
    } catch (error) {
      if (!isMongoDown(error)) throw error;
      return stale;
    } finally {
      clearTimeout(timer);
    }
  }

  private async readTitle(
    lookup: Extract<MovieLookup, { kind: 'title' }>,
    arrival: number,
    load: Load,
  ): Promise<ReadOutcome> {
    const at = this.clock.tick();
    const known = await this.resolveTitle(lookup, at);
    if (known?.kind === 'absent') return known;
    if (known) return this.readId(known.id, arrival, this.copies.loadById(known.id));
    const keys = lookupKeys(lookup);
    return this.flights.run(
      keys.lease,
      arrival,
      () => this.missTitle(lookup, load),
      () => this.readTitle(lookup, arrival, load),
    );
  }

  /** The title's cached id, or its remembered absence, or null. */
  private async resolveTitle(
    lookup: Extract<MovieLookup, { kind: 'title' }>,
    at: number,
  ): Promise<TitleResolution | null> {
    const key = titleKey(lookup.title, lookup.year);
    const id = this.near.title(key) ?? (await this.titles.resolve(lookup.title, lookup.year));
    if (id) {
      this.near.keepTitle(key, id);
      return { kind: 'id', id };
    }
    const { tag, year } = lookupKeys(lookup);
    return (await this.negative.isAbsent(tag, year)) ? { kind: 'absent', freshAsOf: at } : null;
  }

  /** A title miss: the title query (the handler) names the id, which is then read as an id. */
  private async missTitle(
    lookup: Extract<MovieLookup, { kind: 'title' }>,
    load: Load,
  ): Promise<ReadOutcome> {
    const { readAt, resolved } = await this.misses.byTitle(lookup, load, () =>
      poll(() => this.resolveTitle(lookup, this.clock.tick()), this.policy.fillLeaseMs, POLL_MS),
    );
    if (resolved.kind === 'absent') return resolved;
    this.near.keepTitle(titleKey(lookup.title, lookup.year), resolved.id);
    const outcome = await this.readId(resolved.id, readAt, this.copies.loadById(resolved.id));
    // MongoDB was read for this lookup: a miss, even if the movie's copy was cached.
    if (outcome.kind !== 'movie') return outcome;
    return { ...outcome, result: miss(outcome.result.movie) };
  }
}
