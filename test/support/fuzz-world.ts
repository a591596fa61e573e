import type { Document } from 'bson';
import { movieFactory } from '../factories/movie.factory';

/** A movie the fuzzer may ask for, as it was inserted. */
export interface WorldMovie {
  id: string;
  title: string;
  /** Only when stored as a number: a title + year lookup can find it. */
  year?: number;
  votes: number;
  rating?: number;
}

/** What the fuzzer knows of the app it fuzzes: the movies inserted, and the admin token. */
export interface FuzzWorld {
  docs: Document[];
  movies: WorldMovie[];
  token: string;
}

/**
 * Ordinary movies, titles that look like operators, patterns or Redis keys, a title at the length
 * limit, duplicate titles, and the odd rows sample_mflix has (ratings and years as strings).
 */
export function fuzzWorld(token: string): FuzzWorld {
  const docs = [
    ...Array.from({ length: 24 }, () => movieFactory()),
    movieFactory({ title: 'Amélie 🎬 映画', year: 2001 }),
    movieFactory({ title: '.*' }),
    movieFactory({ title: '{"$gt": ""}' }),
    movieFactory({ title: 'movie:{1}' }),
    movieFactory({ title: 'é'.repeat(256) }),
    movieFactory({ title: 'Twice', year: 1999, votes: 10 }),
    movieFactory({ title: 'Twice', year: 1999, votes: 20 }),
    movieFactory({ title: 'Twice', year: 2004, votes: 5 }),
    movieFactory({ title: 'Odd Row', year: '2005è', rating: '', votes: '' }),
    movieFactory({ title: 'Unrated', rating: null }),
    movieFactory({ title: 'Rating As Text', rating: '7.1' }),
  ];
  const movies = docs.map((doc) => ({
    id: doc._id.toHexString(),
    title: doc.title as string,
    year: typeof doc.year === 'number' ? doc.year : undefined,
    votes: typeof doc.imdb.votes === 'number' ? doc.imdb.votes : 0,
    rating: typeof doc.imdb.rating === 'number' ? doc.imdb.rating : undefined,
  }));
  return { docs, movies, token };
}

/** The movie a title lookup answers with: the most votes, then the lowest id. */
export function titleMatch(world: FuzzWorld, title: string, year?: number): WorldMovie | undefined {
  return world.movies
    .filter((m) => m.title === title && (year === undefined || m.year === year))
    .sort((a, b) => b.votes - a.votes || a.id.localeCompare(b.id))[0];
}
