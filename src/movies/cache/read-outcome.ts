import { Injectable } from '@nestjs/common';
import { ENCODED_RESPONSE } from '../../grpc/frozen-responses';
import type { CachedCopy } from './cached-copy';
import { frameResponse, type MovieRef } from './movie-copy.codec';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';

/**
 * A GetMovie answer. One from Redis also carries its encoding (`ENCODED_RESPONSE`: sent as it is),
 * and `ref`, what it is counted by; its `movie` is decoded only if read.
 */
export type CacheAsideResult = GetMovieResponse & {
  movie: Movie;
  ref?: MovieRef;
  [ENCODED_RESPONSE]?: Buffer;
};

export const answer = (
  movie: Movie,
  cacheStatus: CacheStatus,
  cacheTier = CacheTier.CACHE_TIER_UNSPECIFIED,
): CacheAsideResult => ({ movie, cacheStatus, cacheTier });

export const miss = (movie: Movie) => answer(movie, CacheStatus.CACHE_STATUS_MISS);

/** A frozen copy of objects and arrays; strings (immutable) are shared, not copied. */
function frozenCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const copy = Array.isArray(value)
    ? value.map(frozenCopy)
    : Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, frozenCopy(inner)]));
  return Object.freeze(copy) as T;
}

/** An answer served to many calls: a frozen copy, so the gRPC layer encodes it once. */
export const frozenAnswer = (
  movie: Movie,
  cacheStatus: CacheStatus,
  cacheTier: CacheTier,
): CacheAsideResult => frozenCopy(answer(movie, cacheStatus, cacheTier));

/**
 * A Redis copy's answer, from Redis's tier: its `movie` is decoded only if read, and it is sent
 * as the GetMovieResponse framed around the copy's encoding. A class, not a literal: a getter in
 * an object literal costs a runtime call per answer. `movie` lives on the prototype, so a spread
 * of this answer has no movie: build a new answer with `answer()` instead.
 */
class EncodedAnswer implements CacheAsideResult {
  readonly #copy: CachedCopy;
  readonly cacheTier = CacheTier.CACHE_TIER_REDIS;

  constructor(
    copy: CachedCopy,
    readonly cacheStatus: CacheStatus,
  ) {
    this.#copy = copy;
  }

  get movie(): Movie {
    return this.#copy.movie();
  }

  get ref(): MovieRef {
    return this.#copy.ref;
  }

  get [ENCODED_RESPONSE](): Buffer {
    return frameResponse(this.#copy.bytes, this.cacheStatus, this.cacheTier);
  }
}

export const encodedAnswer = (copy: CachedCopy, cacheStatus: CacheStatus): CacheAsideResult =>
  new EncodedAnswer(copy, cacheStatus);

/** A moment on this process's logical clock: arrivals, Redis and MongoDB reads, fill sends. */
export type Tick = number;

/**
 * A lookup's answer (a movie or "absent") and how fresh it is: `freshAt` is the tick at which the
 * Redis read, the MongoDB read or the fenced fill behind it was sent. Every write acknowledged
 * before then is in it, so it may be handed to any request that arrived before then, and no other.
 */
export type ReadOutcome = ({ kind: 'movie'; result: CacheAsideResult } | { kind: 'absent' }) & {
  freshAt: Tick;
};

export const found = (result: CacheAsideResult, freshAt: Tick): ReadOutcome => ({
  kind: 'movie',
  result,
  freshAt,
});

/** A total order of this process's events. */
@Injectable()
export class LogicalClock {
  private now: Tick = 0;

  tick(): Tick {
    return ++this.now;
  }
}
