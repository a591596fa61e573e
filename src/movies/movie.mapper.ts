import type { Types } from 'mongoose';
import type { Movie } from '../generated/nest/movies/v1/movie_service';
import type { MovieEntity } from './movie.schema';

export type MovieRow = MovieEntity & { _id: Types.ObjectId };

/** Fields read for the API; everything else stays in MongoDB. */
export const MOVIE_PROJECTION = {
  title: 1,
  year: 1,
  plot: 1,
  'imdb.rating': 1,
  'imdb.votes': 1,
  genres: 1,
  directors: 1,
  cast: 1,
  runtime: 1,
  revision: 1,
} as const;

/** The checker's read: which revision MongoDB holds (`_id` comes with every projection). */
export const VERSION_PROJECTION = { revision: 1 } as const;
export type VersionRow = Pick<MovieRow, '_id' | 'revision'>;
export type MovieVersion = { id: string; revision: number };

function finiteNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number.parseFloat(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

export const versionOf = (row: VersionRow | null): MovieVersion | null =>
  row && { id: row._id.toHexString(), revision: revisionOf(row) };

const revisionOf = (row: Pick<MovieRow, 'revision'>) => Math.trunc(finiteNumber(row.revision) ?? 0);

export function toMovie(row: MovieRow): Movie {
  const rating = typeof row.imdb?.rating === 'number' ? row.imdb.rating : undefined;
  const movie: Movie = {
    id: row._id.toHexString(),
    title: row.title ?? '',
    year: Math.trunc(finiteNumber(row.year) ?? 0),
    plot: row.plot ?? '',
    imdbVotes: Math.trunc(finiteNumber(row.imdb?.votes) ?? 0),
    genres: strings(row.genres),
    directors: strings(row.directors),
    cast: strings(row.cast),
    runtimeMinutes: Math.trunc(finiteNumber(row.runtime) ?? 0),
    revision: revisionOf(row),
  };
  if (rating !== undefined && Number.isFinite(rating)) movie.rating = rating;
  return movie;
}
