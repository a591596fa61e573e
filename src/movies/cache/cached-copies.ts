import { Injectable } from '@nestjs/common';
import { MovieNotFoundError } from '../../common/errors';
import { poll } from '../../common/sleep';
import { CacheStatus, CacheTier, type Movie } from '../../generated/nest/movies/v1/movie_service';
import { MoviesRepository } from '../movies.repository';
import { CacheMisses } from './cache-misses';
import { CachePolicy } from './cache-policy';
import { MovieCacheStore } from './movie-cache.store';
import { NearCache } from './near-cache';
import { OutageLedger } from './outage-ledger';
import { LogicalClock, answer, type ReadOutcome } from './read-outcome';

const POLL_MS = 10;

/** A copy past its TTL, kept for grace: a miss, unless MongoDB fails and `servable`. */
export interface GracedCopy {
  kind: 'graced';
  movie: Movie;
  /** No write newer than the copy was recorded: it may be served as STALE. */
  servable: boolean;
  freshAsOf: number;
}

/**
 * The cached copies of an id, nearest first: the near-cache, then Redis (a fresh copy is kept in
 * the near-cache, and refreshed ahead of its expiry when due; a copy past its TTL is graced).
 */
@Injectable()
export class CachedCopies {
  constructor(
    private readonly near: NearCache,
    private readonly store: MovieCacheStore,
    private readonly ledger: OutageLedger,
    private readonly clock: LogicalClock,
    private readonly misses: CacheMisses,
    private readonly repository: MoviesRepository,
    private readonly policy: CachePolicy,
  ) {}

  /**
   * From process memory: every write acknowledged so far has been dropped from it. A hot movie
   * is mostly served from here, so this is also where its refresh-ahead falls due.
   */
  local(id: string, arrival: number): ReadOutcome | null {
    const copy = this.near.movie(id);
    if (!copy) return null;
    this.refreshIfDue(id, copy.freshUntil - performance.now());
    const result = answer(copy.movie, CacheStatus.CACHE_STATUS_HIT, CacheTier.CACHE_TIER_LOCAL);
    return { kind: 'movie', result, freshAsOf: arrival };
  }

  /** From Redis; null on a miss or for an id written during an outage. */
  async read(id: string): Promise<ReadOutcome | GracedCopy | null> {
    if (this.ledger.isDirty(id)) return null;
    const at = this.clock.tick();
    const token = this.near.token();
    const cached = await this.store.read(id);
    if (cached.kind === 'absent') return { kind: 'absent', freshAsOf: at };
    if (cached.kind === 'miss') return null;
    if (cached.ttlMs <= 0) {
      return { kind: 'graced', movie: cached.movie, servable: !cached.fenced, freshAsOf: at };
    }
    this.near.keep(cached.movie, cached.ttlMs, token);
    this.refreshIfDue(id, cached.ttlMs);
    const result = answer(cached.movie, CacheStatus.CACHE_STATUS_HIT, CacheTier.CACHE_TIER_REDIS);
    return { kind: 'movie', result, freshAsOf: at };
  }

  /** Another instance holds the lease: wait for its fill, up to the lease time. */
  awaitFill(id: string): Promise<ReadOutcome | null> {
    return poll(
      async () => {
        const cached = await this.read(id);
        return cached && cached.kind !== 'graced' ? cached : null;
      },
      this.policy.fillLeaseMs,
      POLL_MS,
    );
  }

  private refreshIfDue(id: string, remainingMs: number): void {
    if (this.policy.refreshDue(remainingMs)) void this.misses.refresh(id, this.loadById(id));
  }

  loadById(id: string): () => Promise<Movie> {
    return async () => {
      const movie = await this.repository.findById(id);
      if (!movie) throw new MovieNotFoundError(`id ${id}`);
      return movie;
    };
  }
}
