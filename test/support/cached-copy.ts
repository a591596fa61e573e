import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { CachedCopy } from '../../src/movies/cache/cached-copy';
import type { CachedMovie } from '../../src/movies/cache/movie-cache.store';
import { movieKey } from '../../src/redis/cache-keys';

/** The movie Redis holds for `id` (its copy decoded), or null. */
export async function readCopy(redis: Redis | Cluster, id: string): Promise<Movie | null> {
  const value = await redis.getBuffer(movieKey(id));
  return value ? (CachedCopy.of(value)?.movie() ?? null) : null;
}

/** Moves a cached copy's expiry to `ms` from now (negative: past its TTL, into its grace). */
export async function expireCopyIn(redis: Redis | Cluster, id: string, ms: number): Promise<void> {
  const value = await redis.getBuffer(movieKey(id));
  const copy = value && CachedCopy.of(value);
  if (!copy) throw new Error(`no copy of ${id} cached`);
  await redis.pexpire(movieKey(id), Math.max(1, copy.graceMs + ms));
}

/** What the store read, with a hit's movie decoded (for expectations on it). */
export function decoded(cached: CachedMovie) {
  if (cached.kind !== 'hit') return cached;
  const { copy, ttlMs, unsettled } = cached;
  return { kind: cached.kind, movie: copy.movie(), ttlMs, unsettled };
}
