import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  EMPTY,
  Observable,
  Subject,
  catchError,
  defer,
  distinctUntilChanged,
  exhaustMap,
  finalize,
  map,
  merge,
  mergeMap,
  shareReplay,
  throwError,
  timer,
} from 'rxjs';
import { ServerShuttingDownError } from '../common/errors';
import type {
  StreamTrendingResponse,
  TrendingEntry,
} from '../generated/nest/movies/v1/movie_service';
import { LeaderboardProvider } from './leaderboard.provider';
import { sameEntries } from './ranking';
import { StreamSlots } from './stream-slots';
import { MAX_LIMIT, type TrendingQuery } from './trending-request';

interface Ranking {
  entries: TrendingEntry[];
  computedAt: number;
}

/**
 * Live trending snapshots. Streams with the same window and interval share one ranking
 * computation per tick (the top MAX_LIMIT, cut to each stream's limit); a stream only
 * receives a snapshot when its entries, order or counts changed. Each subscription holds one of
 * the instance's stream slots until it ends, however it ends.
 */
@Injectable()
export class TrendingFeed implements OnModuleDestroy {
  private readonly logger = new Logger(TrendingFeed.name);
  private readonly rankings = new Map<string, Observable<Ranking>>();
  private readonly shutdown$ = new Subject<void>();

  constructor(
    private readonly leaderboard: LeaderboardProvider,
    private readonly slots: StreamSlots,
  ) {}

  /** StreamTrending calls currently open. */
  get openStreams(): number {
    return this.slots.open;
  }

  /** Fails with RESOURCE_EXHAUSTED when `client` or the instance has no stream slot left. */
  snapshots(query: TrendingQuery, client: string): Observable<StreamTrendingResponse> {
    const shuttingDown$ = this.shutdown$.pipe(
      mergeMap(() => throwError(() => new ServerShuttingDownError())),
    );
    return defer(() => {
      const release = this.slots.take(client);
      return merge(this.ranking(query.windowSeconds, query.intervalMs), shuttingDown$).pipe(
        map((ranking) => ({ ...ranking, entries: ranking.entries.slice(0, query.limit) })),
        distinctUntilChanged((a, b) => sameEntries(a.entries, b.entries)),
        map((ranking) => ({ entries: ranking.entries, generatedAtUnixMs: ranking.computedAt })),
        finalize(release),
      );
    });
  }

  /** Ends every open stream with UNAVAILABLE, so the server can close. */
  endAll(): void {
    this.shutdown$.next();
  }

  onModuleDestroy(): void {
    this.endAll();
  }

  private ranking(windowSeconds: number, intervalMs: number): Observable<Ranking> {
    const key = `${windowSeconds}:${intervalMs}`;
    let ranking = this.rankings.get(key);
    if (!ranking) {
      ranking = timer(0, intervalMs).pipe(
        exhaustMap(() => this.compute(windowSeconds)),
        finalize(() => this.rankings.delete(key)),
        shareReplay({ bufferSize: 1, refCount: true }),
      );
      this.rankings.set(key, ranking);
    }
    return ranking;
  }

  private compute(windowSeconds: number): Observable<Ranking> {
    return defer(async () => {
      const entries = await this.leaderboard.topMovies(windowSeconds, MAX_LIMIT);
      return { entries, computedAt: Date.now() };
    }).pipe(
      catchError((error: Error) => {
        // A failed tick is skipped; the stream keeps its last snapshot and tries again next tick.
        this.logger.warn(`trending ranking (window ${windowSeconds}s) failed: ${error.message}`);
        return EMPTY;
      }),
    );
  }
}
