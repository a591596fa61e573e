import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/**
 * The latest deadline (ms since the epoch; Infinity: none) of the calls a read serves: read when
 * the read starts, as callers may join or cancel meanwhile (a cancelled call's is -Infinity).
 */
export type ReadDeadline = () => number;

export const NO_DEADLINE: ReadDeadline = () => Infinity;

/**
 * Where a miss reads movies: MongoDB (MoviesRepository), handed to the cache once. A read whose
 * deadline has passed is not started (DEADLINE_EXCEEDED); one that starts gets no more time.
 */
export interface MovieSource {
  /** `linearizable`: on a replica set, read at that concern (never a deposed primary's lag). */
  findById(id: string, deadline?: ReadDeadline, linearizable?: boolean): Promise<Movie | null>;
  /** Several ids: one query where the server serves `$in` from its index. */
  findByIds(
    ids: string[],
    deadline?: ReadDeadline,
    linearizable?: boolean,
  ): Promise<Map<string, Movie>>;
  findByTitle(title: string, year?: number, deadline?: ReadDeadline): Promise<Movie | null>;
  /** MongoDB's last answer was "unreachable": a graced copy is served without waiting for it. */
  readonly unavailable: boolean;
}

export const MOVIE_SOURCE = Symbol('MOVIE_SOURCE');
