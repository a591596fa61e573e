import { Injectable } from '@nestjs/common';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';

export type CacheAsideResult = GetMovieResponse & { movie: Movie };

export const answer = (
  movie: Movie,
  cacheStatus: CacheStatus,
  cacheTier = CacheTier.CACHE_TIER_UNSPECIFIED,
): CacheAsideResult => ({ movie, cacheStatus, cacheTier });

export const miss = (movie: Movie) => answer(movie, CacheStatus.CACHE_STATUS_MISS);

/**
 * A lookup's answer (a movie or "absent") and how fresh it is: `freshAsOf` is the logical time
 * (LogicalClock) at which the Redis read, the MongoDB read or the fenced fill behind it was sent.
 * Every write acknowledged before then is in it, so it may be handed to any request that arrived
 * before then, and to no other.
 */
export type ReadOutcome = ({ kind: 'movie'; result: CacheAsideResult } | { kind: 'absent' }) & {
  freshAsOf: number;
};

/** A total order of this process's events: arrivals, Redis and MongoDB reads, fill sends. */
@Injectable()
export class LogicalClock {
  private now = 0;

  tick(): number {
    return ++this.now;
  }
}

/**
 * One miss per key in this process. A request joins a running miss, but takes its answer only
 * if that answer is fresh as of the request's arrival; otherwise it reads again.
 */
export class MissFlights {
  private readonly running = new Map<string, Promise<ReadOutcome>>();

  async run(
    key: string,
    arrival: number,
    miss: () => Promise<ReadOutcome>,
    readAgain: () => Promise<ReadOutcome>,
  ): Promise<ReadOutcome> {
    const joined = this.running.get(key);
    if (!joined) {
      const flight = miss().finally(() => this.running.delete(key));
      this.running.set(key, flight);
      return flight;
    }
    const outcome = await joined;
    // A miss started after `joined` ended, so after this arrival: reading again joins or runs one.
    return outcome.freshAsOf > arrival ? outcome : readAgain();
  }
}
