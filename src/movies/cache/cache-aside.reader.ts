import { Inject, Injectable } from '@nestjs/common';
import { DependencyUnavailableError, MovieNotFoundError } from '../../common/errors';
import { sleep } from '../../common/sleep';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { CacheStatus, CacheTier, type Movie } from '../../generated/nest/movies/v1/movie_service';
import { leaseKey, titleKey } from '../../redis/cache-keys';
import { describeLookup, type MovieLookup } from '../movie-lookup';
import { MoviesRepository } from '../movies.repository';
import { CacheMisses, type TitleResolution } from './cache-misses';
import { lookupKeys } from './lookup-keys';
import { MovieCacheStore } from './movie-cache.store';
import { NegativeCache } from './negative-cache';
import { OutageLedger } from './outage-ledger';
import { NearCache } from './near-cache';
import {
  LogicalClock,
  MissFlights,
  answer,
  miss,
  type CacheAsideResult,
  type ReadOutcome,
} from './read-outcome';
import { TitleMap } from './title-map';

const isRedisDown = (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === 'Redis';

const POLL_MS = 10;

export type Load = () => Promise<Movie>;

/**
 * Reads a movie through the cache. Redis first; on a miss one MongoDB read per key (single
 * flight in the process, a Redis lease across instances) and a fill fenced against writes
 * (FencedFill). A title resolves to an id (title map, or the title query on a miss) and is then
 * read as that id. Every answer is handed only to requests that arrived before it was read
 * (ReadOutcome). With Redis away, the handler's MongoDB read is served as BYPASS.
 */
@Injectable()
export class CacheAsideReader {
  private readonly flights = new MissFlights();

  constructor(
    private readonly store: MovieCacheStore,
    private readonly titles: TitleMap,
    private readonly negative: NegativeCache,
    private readonly ledger: OutageLedger,
    private readonly near: NearCache,
    private readonly misses: CacheMisses,
    private readonly clock: LogicalClock,
    private readonly repository: MoviesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `load` is the GetMovie handler: the lookup as asked, read from MongoDB. */
  async read(lookup: MovieLookup, load: Load): Promise<CacheAsideResult> {
    const arrival = this.clock.tick();
    let outcome: ReadOutcome;
    try {
      outcome =
        lookup.kind === 'id'
          ? await this.readId(lookup.id, arrival, load)
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
    // Every write acknowledged so far has been dropped from here (InvalidationBus).
    const local = this.near.movie(id);
    if (local) {
      const result = answer(local, CacheStatus.CACHE_STATUS_HIT, CacheTier.CACHE_TIER_LOCAL);
      return { kind: 'movie', result, freshAsOf: arrival };
    }
    const cached = await this.readCopy(id);
    if (cached) return cached;
    return this.flights.run(
      leaseKey(id),
      arrival,
      () => this.misses.byId(id, load, () => this.awaitCopy(id)),
      () => this.readId(id, arrival, load),
    );
  }

  private async readTitle(
    lookup: Extract<MovieLookup, { kind: 'title' }>,
    arrival: number,
    load: Load,
  ): Promise<ReadOutcome> {
    const at = this.clock.tick();
    const known = await this.resolveTitle(lookup, at);
    if (known?.kind === 'absent') return known;
    if (known) return this.readId(known.id, arrival, this.loadById(known.id));
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
    const { readAt, resolved } = await this.misses.byTitle(lookup, load, async () => {
      const deadline = Date.now() + this.config.fillLeaseMs;
      while (Date.now() < deadline) {
        await sleep(POLL_MS);
        const known = await this.resolveTitle(lookup, this.clock.tick());
        if (known) return known;
      }
      return null;
    });
    if (resolved.kind === 'absent') return resolved;
    const outcome = await this.readId(resolved.id, readAt, this.loadById(resolved.id));
    // MongoDB was read for this lookup: a miss, even if the movie's copy was cached.
    if (outcome.kind !== 'movie') return outcome;
    return { ...outcome, result: miss(outcome.result.movie) };
  }

  /** The cached copy as a fresh outcome; null on a miss or for an id written during an outage. */
  private async readCopy(id: string): Promise<ReadOutcome | null> {
    if (this.ledger.isDirty(id)) return null;
    const at = this.clock.tick();
    const token = this.near.token();
    const cached = await this.store.read(id);
    if (cached.kind === 'absent') return { kind: 'absent', freshAsOf: at };
    if (cached.kind === 'miss') return null;
    this.near.keep(cached.movie, cached.ttlMs, token);
    const result = answer(cached.movie, CacheStatus.CACHE_STATUS_HIT, CacheTier.CACHE_TIER_REDIS);
    return { kind: 'movie', result, freshAsOf: at };
  }

  /** Another instance holds the lease: wait for its fill, up to the lease time. */
  private async awaitCopy(id: string): Promise<ReadOutcome | null> {
    const deadline = Date.now() + this.config.fillLeaseMs;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const cached = await this.readCopy(id);
      if (cached) return cached;
    }
    return null;
  }

  private loadById(id: string): Load {
    return async () => {
      const movie = await this.repository.findById(id);
      if (!movie) throw new MovieNotFoundError(`id ${id}`);
      return movie;
    };
  }
}
