import { ObjectId } from 'bson';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';

let sequence = 0;

/** A movie as the API returns it (the repository's output). */
export function apiMovieFactory(overrides: Partial<Movie> = {}): Movie {
  sequence += 1;
  return {
    id: new ObjectId().toHexString(),
    title: `Api Movie ${sequence}`,
    year: 2000 + (sequence % 20),
    plot: `Plot ${sequence}`,
    rating: 7,
    imdbVotes: 1_000 * sequence,
    genres: ['Drama', 'Comedy'],
    directors: [`Director ${sequence}`],
    cast: [`Actor ${sequence}`],
    runtimeMinutes: 100,
    revision: 0,
    ...overrides,
  };
}
