import type { TrendingEntry } from '../generated/nest/movies/v1/movie_service';

export const MAX_WINDOW_SECONDS = 86_400;

export interface Scored {
  movieId: string;
  views: number;
}

/** Views descending, then movie id ascending: a total, deterministic order. */
export function compareScored(a: Scored, b: Scored): number {
  return b.views - a.views || (a.movieId < b.movieId ? -1 : a.movieId > b.movieId ? 1 : 0);
}

/** Redis' flat [member, score, member, score, ...] reply, ranked and cut to limit. */
export function rankReply(reply: string[], limit: number): Scored[] {
  const scored: Scored[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    scored.push({ movieId: reply[i], views: Number(reply[i + 1]) });
  }
  return scored.sort(compareScored).slice(0, limit);
}

export function toEntries(scored: Scored[], titles: Map<string, string>): TrendingEntry[] {
  return scored.map((s, index) => ({
    rank: index + 1,
    movieId: s.movieId,
    title: titles.get(s.movieId) ?? '',
    views: s.views,
    movie: undefined,
  }));
}

export const bucketStart = (unixMs: number, bucketSeconds: number): number =>
  Math.floor(unixMs / 1000 / bucketSeconds) * bucketSeconds;

/**
 * Start seconds of the buckets that make up the last windowSeconds: the current bucket and
 * those that began inside the window (granularity: one bucket).
 */
export function windowBuckets(
  unixMs: number,
  windowSeconds: number,
  bucketSeconds: number,
): number[] {
  const current = bucketStart(unixMs, bucketSeconds);
  const windowStart = unixMs / 1000 - windowSeconds;
  const buckets = [current];
  for (let start = current - bucketSeconds; start >= windowStart; start -= bucketSeconds) {
    buckets.push(start);
  }
  return buckets;
}

export function sameEntries(a: TrendingEntry[], b: TrendingEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (e, i) =>
        e.movieId === b[i].movieId &&
        e.views === b[i].views &&
        e.title === b[i].title &&
        e.movie?.revision === b[i].movie?.revision,
    )
  );
}
