import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/** A cached movie is a Redis hash: one field per scalar, arrays JSON-encoded. */
export function encodeMovieHash(movie: Movie): string[] {
  const fields: string[] = [
    'id', movie.id,
    'title', movie.title,
    'year', String(movie.year),
    'plot', movie.plot,
    'imdbVotes', String(movie.imdbVotes),
    'genres', JSON.stringify(movie.genres),
    'directors', JSON.stringify(movie.directors),
    'cast', JSON.stringify(movie.cast),
    'runtimeMinutes', String(movie.runtimeMinutes),
    'revision', String(movie.revision),
  ]; // prettier-ignore
  if (movie.rating !== undefined) fields.push('rating', String(movie.rating));
  return fields;
}

function stringArray(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  } catch {
    return null;
  }
}

/** Null when the hash is absent or not a complete movie (then it is treated as a miss). */
export function decodeMovieHash(hash: Record<string, string>): Movie | null {
  if (!hash.id || hash.revision === undefined || hash.title === undefined) return null;
  const genres = stringArray(hash.genres);
  const directors = stringArray(hash.directors);
  const cast = stringArray(hash.cast);
  if (!genres || !directors || !cast) return null;
  const movie: Movie = {
    id: hash.id,
    title: hash.title,
    year: Number(hash.year ?? 0),
    plot: hash.plot ?? '',
    imdbVotes: Number(hash.imdbVotes ?? 0),
    genres,
    directors,
    cast,
    runtimeMinutes: Number(hash.runtimeMinutes ?? 0),
    revision: Number(hash.revision),
  };
  if (hash.rating !== undefined) movie.rating = Number(hash.rating);
  return movie;
}
