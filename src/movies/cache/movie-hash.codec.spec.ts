import { apiMovieFactory } from '../../../test/factories/api-movie.factory';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';

const asHash = (pairs: string[]) =>
  Object.fromEntries(pairs.flatMap((_, i) => (i % 2 === 0 ? [[pairs[i], pairs[i + 1]]] : [])));

describe('movie hash codec', () => {
  it('round-trips every field of a movie, with and without a rating', () => {
    const rated = apiMovieFactory({ rating: 7.5, genres: ['Drama', 'Crime'], cast: [] });
    const unrated = { ...apiMovieFactory(), rating: undefined };
    delete unrated.rating;

    expect(decodeMovieHash(asHash(encodeMovieHash(rated)))).toEqual(rated);
    expect(decodeMovieHash(asHash(encodeMovieHash(unrated)))).toEqual(unrated);
    expect(encodeMovieHash(unrated)).not.toContain('rating');
  });

  it.each(['id', 'title', 'year', 'plot', 'imdbVotes', 'genres', 'runtimeMinutes', 'revision'])(
    'takes a hash without %s for no movie',
    (field) => {
      const hash = asHash(encodeMovieHash(apiMovieFactory()));
      delete hash[field];

      expect(decodeMovieHash(hash)).toBeNull();
    },
  );

  it.each([
    ['genres', '{"not":"a list"}'],
    ['cast', '[1, 2]'],
    ['directors', 'not json'],
    ['revision', 'NaN'],
    ['year', ''],
  ])('takes a hash whose %s is %s for no movie', (field, raw) => {
    const hash = { ...asHash(encodeMovieHash(apiMovieFactory())), [field]: raw };

    expect(decodeMovieHash(hash)).toBeNull();
  });
});
