import { ObjectId, type Document } from 'bson';

let sequence = 0;

export interface MovieDocOverrides {
  _id?: ObjectId;
  title?: string;
  year?: number | string;
  rating?: number | string | null;
  votes?: number | string;
  plot?: string;
  genres?: string[];
  revision?: number;
}

/** A movie document's _id as the API names it (24 hex digits). */
export const hex = (movie: Document): string => (movie._id as ObjectId).toHexString();

/** A sample_mflix-shaped movie document as stored in MongoDB. */
export function movieFactory(overrides: MovieDocOverrides = {}): Document {
  sequence += 1;
  const imdb: Document = { votes: overrides.votes ?? 1000 + sequence, id: 100_000 + sequence };
  if (overrides.rating !== null) imdb.rating = overrides.rating ?? 7.5;
  return {
    _id: overrides._id ?? new ObjectId(),
    title: overrides.title ?? `Test Movie ${sequence}`,
    year: overrides.year ?? 1990 + (sequence % 30),
    plot: overrides.plot ?? `Plot of test movie ${sequence}.`,
    genres: overrides.genres ?? ['Drama'],
    directors: [`Director ${sequence}`],
    cast: [`Actor ${sequence}`, `Actress ${sequence}`],
    runtime: 90 + (sequence % 60),
    imdb,
    type: 'movie',
    ...(overrides.revision === undefined ? {} : { revision: overrides.revision }),
  };
}
