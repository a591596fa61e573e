import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '../../metrics/metrics.service';
import { CachePolicy } from './cache-policy';
import { MovieCacheStore } from './movie-cache.store';
import { MOVIE_SOURCE, type MovieSource } from './movie-source';
import { NearCache } from './near/near-cache';
import { WriteFence } from './write-fence';

const RETRY_MS = 1_000;

/** Refreshes a copy close to its expiry in the background, so a hot movie never goes cold. */
@Injectable()
export class RefreshAhead {
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly near: NearCache,
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly policy: CachePolicy,
    private readonly metrics: MetricsService,
    @Inject(MOVIE_SOURCE) private readonly source: MovieSource,
  ) {}

  /** A hit on a copy fresh for `remainingMs` more: refreshes it if the policy says it is due. */
  ifDue(id: string, remainingMs: number): void {
    if (this.policy.refreshDue(remainingMs)) void this.refresh(id);
  }

  /**
   * One refresh per id across instances (only the holder of its lease refreshes), fenced like any
   * fill. A failure leaves the copy to expire as usual.
   */
  async refresh(id: string): Promise<void> {
    if (this.refreshing.has(id)) return;
    this.refreshing.add(id);
    try {
      const ticket = await this.fence.begin(id);
      if (!ticket.lease) return;
      try {
        const movie = await this.source.findById(id);
        if (!movie) throw new Error(`movie ${id} is gone`);
        const seen = this.near.invalidationCount();
        const filled = await this.store.fill(movie, ticket.fence, ticket.lease);
        ticket.lease = null;
        this.metrics.cacheRefreshes.inc({ outcome: filled.kind });
        if (filled.kind === 'stored') this.near.keep(movie, filled.ttlMs, seen, filled.unsettled);
      } finally {
        await this.fence.end(ticket, id);
      }
    } catch {
      this.metrics.cacheRefreshes.inc({ outcome: 'failed' });
    } finally {
      // One attempt per id a second here: hits stay due until a fresh copy is read.
      setTimeout(() => this.refreshing.delete(id), RETRY_MS).unref();
    }
  }
}
