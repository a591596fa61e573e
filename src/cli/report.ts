import Table from 'cli-table3';
import { status } from '@grpc/grpc-js';
import {
  CacheStatus,
  CacheTier,
  type GetCacheStatsResponse,
  type GetMovieRequest,
  type LatencyStats,
  type Movie,
  type MovieResult,
  type RunBenchmarkResponse,
  type TrendingEntry,
} from '../generated/client/movies/v1/movie_service';

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const ms = (value: number) => value.toFixed(3);

export function movieTable(movie: Movie, cacheStatus?: string): string {
  const table = new Table();
  table.push(
    { id: movie.id },
    { title: movie.title },
    { year: String(movie.year) },
    { rating: movie.rating === undefined ? '(none)' : String(movie.rating) },
    { 'imdb votes': String(movie.imdbVotes) },
    { genres: movie.genres.join(', ') },
    { directors: movie.directors.join(', ') },
    { cast: movie.cast.join(', ') },
    { runtime: `${movie.runtimeMinutes} min` },
    { revision: String(movie.revision) },
  );
  if (cacheStatus) table.push({ cache: cacheStatus });
  return table.toString();
}

const rating = (movie?: Movie) => (movie?.rating === undefined ? '' : String(movie.rating));
const lookupName = (l: Partial<GetMovieRequest>) =>
  l.id ? l.id : `"${l.title ?? ''}"${l.year ? ` (${l.year})` : ''}`;
const cacheName = (status: CacheStatus, tier: CacheTier) =>
  `${CacheStatus[status].replace('CACHE_STATUS_', '')}${tier ? ` ${CacheTier[tier].replace('CACHE_TIER_', '')}` : ''}`;

/** One row per lookup of a BatchGetMovies, in order: the movie and where it came from, or why not. */
export function batchTable(lookups: Partial<GetMovieRequest>[], results: MovieResult[]): string {
  const table = new Table({ head: ['lookup', 'cache', 'id', 'title', 'year', 'rating'] });
  results.forEach((result, i) => {
    const { found, error } = result;
    if (found?.movie)
      table.push([
        lookupName(lookups[i]),
        cacheName(found.cacheStatus, found.cacheTier),
        found.movie.id,
        found.movie.title,
        found.movie.year,
        rating(found.movie),
      ]);
    else
      table.push([
        lookupName(lookups[i]),
        {
          colSpan: 5,
          content: `${status[error?.code ?? status.UNKNOWN]}: ${error?.message ?? ''}`,
        },
      ]);
  });
  return table.toString();
}

export function trendingTable(entries: TrendingEntry[], generatedAt: number): string {
  const movies = entries.some((e) => e.movie);
  const table = new Table({
    head: ['#', 'views', 'title', 'movie id', ...(movies ? ['year', 'rating'] : [])],
  });
  for (const e of entries)
    table.push([
      e.rank,
      e.views,
      e.title,
      e.movieId,
      ...(movies ? [e.movie?.year ?? '', rating(e.movie)] : []),
    ]);
  return `${new Date(generatedAt).toISOString()}\n${entries.length ? table.toString() : '(no views yet)'}`;
}

export function statsTable(stats: GetCacheStatsResponse): string {
  const table = new Table();
  table.push(
    { status: stats.status },
    { 'redis / mongodb': `${stats.redisOk ? 'up' : 'DOWN'} / ${stats.mongoOk ? 'up' : 'DOWN'}` },
    { hits: String(stats.hits) },
    { misses: String(stats.misses) },
    { bypasses: String(stats.bypasses) },
    { 'hit ratio': pct(stats.hitRatio) },
    { 'ttl seconds': String(stats.ttlSeconds) },
    { 'open trending streams': String(stats.trendingStreams) },
    { 'started at': new Date(stats.startedAtUnixMs).toISOString() },
  );
  return table.toString();
}

function latencyRow(name: string, stats?: LatencyStats): string[] {
  if (!stats || stats.count === 0) return [name, '0', '-', '-', '-', '-', '-'];
  return [
    name,
    String(stats.count),
    ms(stats.meanMs),
    ms(stats.p50Ms),
    ms(stats.p95Ms),
    ms(stats.p99Ms),
    ms(stats.maxMs),
  ];
}

/** The study's report: efficiency, latency per class, speedup, top 5. */
export function benchmarkReport(report: RunBenchmarkResponse): string {
  const efficiency = new Table({ head: ['cache efficiency', ''] });
  efficiency.push(
    ['requests', String(report.totalRequests)],
    ['hits / misses', `${report.hits} / ${report.misses}`],
    ['not found / errors', `${report.notFound} / ${report.errors}`],
    ['hit ratio', pct(report.hitRatio)],
    ['optimal hit ratio (1 - distinct/requests)', pct(report.optimalHitRatio)],
    ['throughput', `${report.throughputRps.toFixed(0)} req/s`],
    ['duration', `${(report.durationMs / 1000).toFixed(2)} s`],
    ['seed', String(report.seed)],
  );
  const latency = new Table({
    head: ['latency (ms)', 'count', 'mean', 'p50', 'p95', 'p99', 'max'],
  });
  latency.push(
    latencyRow('overall', report.overall),
    latencyRow('hits', report.hitLatency),
    latencyRow('misses', report.missLatency),
  );
  if (report.uncachedLatency) latency.push(latencyRow('MongoDB only', report.uncachedLatency));
  const top = new Table({ head: ['top', 'requests', 'title', 'movie id'] });
  for (const e of report.top) top.push([e.rank, e.views, e.title, e.movieId]);
  const speedup =
    report.speedup > 0 ? `hits are ${report.speedup.toFixed(1)}x faster than misses (mean)` : '';
  return [efficiency.toString(), latency.toString(), speedup, top.toString()]
    .filter(Boolean)
    .join('\n');
}
