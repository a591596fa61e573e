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
  of,
  shareReplay,
  throwError,
  timer,
} from 'rxjs';
import { ServerShuttingDownError } from '../common/errors';
import type {
  StreamTrendingResponse,
  TrendingEntry,
} from '../generated/nest/movies/v1/movie_service';
import { MovieCache } from '../movies/cache/movie-cache';
import { parseMovieLookup, type MovieLookup } from '../movies/movie-lookup';
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
 * computation per tick (the top MAX_LIMIT, cut to each stream's limit), and those with
 * include_movies one read of its movies; a stream only receives a snapshot when its entries,
 * order, counts or movies changed. Each subscription holds one of the instance's stream slots
 * until it ends, however it ends.
 */
@Injectable()
export class TrendingFeed implements OnModuleDestroy {
  private readonly logger = new Logger(TrendingFeed.name);
  private readonly rankings = new Map<string, Observable<Ranking>>();
  private readonly shutdown$ = new Subject<void>();

  constructor(
    private readonly leaderboard: LeaderboardProvider,
    private readonly slots: StreamSlots,
    private readonly movies: MovieCache,
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
      const ranking = this.ranking(query.windowSeconds, query.intervalMs, query.includeMovies);
      return merge(ranking, shuttingDown$).pipe(
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

  private ranking(
    windowSeconds: number,
    intervalMs: number,
    includeMovies: boolean,
  ): Observable<Ranking> {
    const key = `${windowSeconds}:${intervalMs}${includeMovies ? ':movies' : ''}`;
    let ranking = this.rankings.get(key);
    if (!ranking) {
      // With movies: the plain ranking of the same window and interval, its movies read per tick.
      const computed = includeMovies
        ? this.ranking(windowSeconds, intervalMs, false).pipe(
            exhaustMap((plain) => this.withMovies(plain)),
          )
        : timer(0, intervalMs).pipe(exhaustMap(() => this.compute(windowSeconds)));
      ranking = computed.pipe(
        finalize(() => this.rankings.delete(key)),
        shareReplay({ bufferSize: 1, refCount: true }),
      );
      this.rankings.set(key, ranking);
    }
    return ranking;
  }

  /**
   * The entries with their movies, read as BatchGetMovies reads them (MovieCache.readMany) but not
   * announced: the feed is not a view of what it lists. An entry whose movie cannot be read has none.
   */
  private withMovies(ranking: Ranking): Observable<Ranking> {
    return defer(async () => {
      const lookups = ranking.entries.map((entry) => idLookup(entry.movieId));
      const outcomes = await this.movies.readMany(lookups.filter((lookup) => lookup !== undefined));
      let next = 0;
      const entries = ranking.entries.map((entry, i) => {
        const outcome = lookups[i] && outcomes[next++];
        return !outcome || outcome instanceof Error ? entry : { ...entry, movie: outcome.movie };
      });
      return { entries, computedAt: ranking.computedAt };
    }).pipe(
      catchError((error: Error) => {
        this.logger.warn(`trending movies could not be read: ${error.message}`);
        return of(ranking);
      }),
    );
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

/** A ranked member as an id lookup; a member that is no movie id is none. */
function idLookup(movieId: string): MovieLookup | undefined {
  try {
    return parseMovieLookup({ id: movieId });
  } catch {
    return undefined;
  }
}
