import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/** Where a miss reads movies: MongoDB (MoviesRepository), handed to the cache once. */
export interface MovieSource {
  findById(id: string): Promise<Movie | null>;
  findByTitle(title: string, year?: number): Promise<Movie | null>;
  /** MongoDB's last answer was "unreachable": a graced copy is served without waiting for it. */
  readonly unavailable: boolean;
}

export const MOVIE_SOURCE = Symbol('MOVIE_SOURCE');
