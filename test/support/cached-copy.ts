import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { GetMovieResponse as GetMovieResponseMessage } from '../../src/generated/client/movies/v1/movie_service';
import type { GetMovieResponse, Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { ENCODED_RESPONSE } from '../../src/grpc/frozen-responses';
import type { CacheAsideResult } from '../../src/movies/cache/read-outcome';
import { CachedCopy } from '../../src/movies/cache/cached-copy';
import type { CachedMovie } from '../../src/movies/cache/movie-cache.store';
import { movieKey } from '../../src/redis/cache-keys';

/** The movie Redis holds for `id` (its copy decoded), or null. */
export async function readCopy(redis: Redis | Cluster, id: string): Promise<Movie | null> {
  const value = await redis.getBuffer(movieKey(id));
  return value ? (CachedCopy.of(value)?.movie() ?? null) : null;
}

/** Redis's clock, in ms. */
export async function redisNow(redis: Redis | Cluster): Promise<number> {
  const [seconds, micros] = (await redis.time()).map(Number);
  return seconds * 1000 + Math.floor(micros / 1000);
}

/** Moves a cached copy's expiry to `ms` from now (negative: past its TTL, into its grace). */
export async function expireCopyIn(redis: Redis | Cluster, id: string, ms: number): Promise<void> {
  const value = await redis.getBuffer(movieKey(id));
  const end = value?.indexOf(10) ?? -1;
  if (!value || end < 0) throw new Error(`no copy of ${id} cached`);
  const [format, revision, , settlesAt] = value.toString('latin1', 0, end).split(' ');
  const header = `${format} ${revision} ${(await redisNow(redis)) + ms} ${settlesAt}`;
  const moved = Buffer.concat([Buffer.from(header, 'latin1'), value.subarray(end)]);
  await redis.set(movieKey(id), moved, 'KEEPTTL');
}

/** What the store read, with a hit's movie decoded (for expectations on it). */
export function decoded(cached: CachedMovie) {
  if (cached.kind !== 'hit') return cached;
  const { copy, ttlMs, unsettled } = cached;
  return { kind: cached.kind, movie: copy.movie(), ttlMs, unsettled };
}

/** A GetMovie answer as the client receives it: a Redis answer's own encoding, decoded. */
export function asSent(result: GetMovieResponse): GetMovieResponse {
  const own = (result as CacheAsideResult)[ENCODED_RESPONSE];
  return own ? GetMovieResponseMessage.decode(own) : result;
}
