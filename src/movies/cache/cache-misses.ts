import { Inject, Injectable } from '@nestjs/common';
import { DependencyUnavailableError, MovieNotFoundError } from '../../common/errors';
import { CacheStatus, type Movie } from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import type { MovieLookup } from '../movie-lookup';
import { FILL_HOOK, type FillHook } from './fill-hook';
import { lookupKeys } from './lookup-keys';
import { CachePolicy } from './cache-policy';
import { MovieCacheStore } from './movie-cache.store';
import { NegativeCache } from './negative-cache';
import { OutageLedger } from './outage-ledger';
import { NearCache } from './near-cache';
import {
  LogicalClock,
  answer,
  miss,
  type CacheAsideResult,
  type ReadOutcome,
} from './read-outcome';
import { TitleMap } from './title-map';
import { WriteFence } from './write-fence';

/** A refused fill means the miss read a copy older than a write: read again, this many times in all. */
const MAX_READS = 3;
const REFRESH_RETRY_MS = 1_000;

const isRedisDown = (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === 'Redis';

type Absent = ReadOutcome & { kind: 'absent' };
export type TitleResolution = { kind: 'id'; id: string } | Absent;

/**
 * Cache misses: one MongoDB read per lookup across instances (a Redis lease; the others wait for
 * its fill), and fills fenced against writes. The fence (see WriteFence) is
 * read before MongoDB is; a fill is stored only if no newer write was recorded since and the
 * fence was not lost, else the miss reads MongoDB again. Absences are remembered the same way.
 */
@Injectable()
export class CacheMisses {
  constructor(
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly negative: NegativeCache,
    private readonly titles: TitleMap,
    private readonly ledger: OutageLedger,
    private readonly near: NearCache,
    private readonly clock: LogicalClock,
    private readonly metrics: MetricsService,
    private readonly policy: CachePolicy,
    @Inject(FILL_HOOK) private readonly fillHook: FillHook,
  ) {}

  private readonly refreshing = new Set<string>();

  /** A miss of an id: `awaitOther` waits for another instance's fill while it holds the lease. */
  async byId(
    id: string,
    load: () => Promise<Movie>,
    awaitOther: () => Promise<ReadOutcome | null>,
  ): Promise<ReadOutcome> {
    const ticket = await this.fence.begin(id);
    try {
      const other = ticket.lease === null ? await awaitOther() : null;
      return other ?? (await this.loadAndFill(id, ticket.fence, load));
    } finally {
      await this.fence.end(ticket, id);
    }
  }

  /**
   * A miss of a title: the title query (`load`) names the id, remembered in the title map; the
   * caller then reads that id. `readAt` is when the query was sent.
   */
  async byTitle(
    lookup: Extract<MovieLookup, { kind: 'title' }>,
    load: () => Promise<Movie>,
    awaitOther: () => Promise<TitleResolution | null>,
  ): Promise<{ readAt: number; resolved: TitleResolution }> {
    const keys = lookupKeys(lookup);
    const ticket = await this.fence.begin(keys.tag, keys.year);
    try {
      const other = ticket.lease === null ? await awaitOther() : null;
      const readAt = this.clock.tick();
      if (other) return { readAt, resolved: other };
      try {
        const { id } = await load();
        await this.titles.remember(lookup.title, lookup.year, id);
        return { readAt, resolved: { kind: 'id', id } };
      } catch (error) {
        if (!(error instanceof MovieNotFoundError)) throw error;
        return { readAt, resolved: await this.absent(keys.tag, keys.year, ticket.fence, readAt) };
      }
    } finally {
      await this.fence.end(ticket, keys.tag, keys.year);
    }
  }

  /**
   * Refresh-ahead of a fresh copy close to its expiry, in the background: one per id across
   * instances (only the holder of its lease refreshes), fenced like any fill. A failure leaves
   * the copy to expire as usual.
   */
  async refresh(id: string, load: () => Promise<Movie>): Promise<void> {
    if (this.refreshing.has(id)) return;
    this.refreshing.add(id);
    try {
      const ticket = await this.fence.begin(id);
      if (!ticket.lease) return;
      try {
        const movie = await load();
        const token = this.near.token();
        const filled = await this.store.fill(movie, ticket.fence);
        this.metrics.cacheRefreshes.inc({ outcome: filled.kind });
        if (filled.kind === 'stored') this.near.keep(movie, filled.ttlMs, token);
      } finally {
        await this.fence.end(ticket, id);
      }
    } catch {
      this.metrics.cacheRefreshes.inc({ outcome: 'failed' });
    } finally {
      // One attempt per id a second here: hits stay due until a fresh copy is read.
      setTimeout(() => this.refreshing.delete(id), REFRESH_RETRY_MS).unref();
    }
  }

  private async loadAndFill(
    id: string,
    firstFence: string,
    load: () => Promise<Movie>,
  ): Promise<ReadOutcome> {
    let fence = firstFence;
    for (let reads = 1; ; reads += 1) {
      const readAt = this.clock.tick();
      const started = performance.now();
      let movie: Movie;
      try {
        movie = await load();
      } catch (error) {
        if (!(error instanceof MovieNotFoundError)) throw error;
        return this.absent(id, undefined, fence, readAt);
      }
      const found = (result: CacheAsideResult, freshAsOf: number): ReadOutcome => ({
        kind: 'movie',
        result,
        freshAsOf,
      });
      let sentAt: number;
      let token: number;
      let filled;
      try {
        await this.fillHook.beforeFill(movie);
        sentAt = this.clock.tick();
        token = this.near.token();
        filled = await this.store.fill(movie, fence);
      } catch (error) {
        if (!isRedisDown(error)) throw error;
        return found(answer(movie, CacheStatus.CACHE_STATUS_BYPASS), readAt);
      }
      this.metrics.cacheFills.inc({ outcome: filled.kind });
      this.policy.observeMiss(performance.now() - started);
      await this.ledger.settle(id).catch(() => undefined);
      if (filled.kind === 'stored') {
        this.near.keep(movie, filled.ttlMs, token);
        return found(miss(movie), sentAt);
      }
      if (filled.kind === 'cached') return found(miss(filled.movie), sentAt);
      // Refused: the copy read may predate a write. It is still fresh as of its own read.
      if (reads === MAX_READS) return found(miss(movie), readAt);
      if (filled.kind === 'unfenced') fence = await this.fence.current(id);
    }
  }

  /** Not found: remembered as absent unless a write moved the fence since `fence` was read. */
  private async absent(
    tag: string,
    year: number | undefined,
    fence: string,
    readAt: number,
  ): Promise<Absent> {
    const sentAt = this.clock.tick();
    const stored = await this.negative.remember(tag, year, fence).catch(() => false);
    return { kind: 'absent', freshAsOf: stored ? sentAt : readAt };
  }
}
