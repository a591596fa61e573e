import { InvalidArgumentError } from '../common/errors';
import type { StreamTrendingRequest } from '../generated/nest/movies/v1/movie_service';
import { MAX_WINDOW_SECONDS } from './ranking';

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 10;
export const DEFAULT_INTERVAL_MS = 1_000;
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 60_000;

export interface TrendingQuery {
  limit: number;
  windowSeconds: number;
  intervalMs: number;
  /** Each entry carries its movie (read through the movie cache, not counted as a view). */
  includeMovies: boolean;
}

function integer(value: unknown, field: string): number {
  const n = value ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new InvalidArgumentError(field, 'must be an integer');
  return n;
}

/** Applies the proto's defaults (0 means the default) and bounds. */
export function parseTrendingRequest(request: Partial<StreamTrendingRequest>): TrendingQuery {
  const limit = integer(request.limit, 'limit') || DEFAULT_LIMIT;
  const windowSeconds = integer(request.windowSeconds, 'window_seconds');
  const intervalMs = integer(request.intervalMs, 'interval_ms') || DEFAULT_INTERVAL_MS;
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidArgumentError(
      'limit',
      `must be between 1 and ${MAX_LIMIT} (0 means ${DEFAULT_LIMIT})`,
    );
  }
  if (windowSeconds < 0 || windowSeconds > MAX_WINDOW_SECONDS) {
    throw new InvalidArgumentError(
      'window_seconds',
      `must be between 0 (all time) and ${MAX_WINDOW_SECONDS}`,
    );
  }
  if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new InvalidArgumentError(
      'interval_ms',
      `must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS} (0 means ${DEFAULT_INTERVAL_MS})`,
    );
  }
  return { limit, windowSeconds, intervalMs, includeMovies: request.includeMovies === true };
}
