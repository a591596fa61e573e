import { apiMovieFactory } from '../../../test/factories/api-movie.factory';
import { encodeCopy, peekCopy } from './movie-copy.codec';

describe(peekCopy.name, () => {
  const movie = apiMovieFactory({ title: 'Peeked', year: 1999, revision: 41 });
  const bytes = encodeCopy(movie);
  const ref = { id: movie.id, title: 'Peeked', year: 1999, revision: 41 };

  it('reads the id, title, year and revision, walking the whole movie', () => {
    expect(peekCopy(bytes)).toEqual(ref);
  });

  it("stops after the leading fields when the copy's header gives the revision", () => {
    // The bytes past the year are not read: cut off inside the cast, the peek is the same.
    expect(peekCopy(bytes.subarray(0, bytes.length - 3), 41)).toEqual(ref);
    expect(peekCopy(bytes.subarray(0, bytes.length - 3))).toBeNull();
  });

  it('a movie without a year: the title is still read, the next field ends the peek', () => {
    const yearless = apiMovieFactory({ title: 'No Year', year: 0, revision: 2 });
    expect(peekCopy(encodeCopy(yearless), 2)).toMatchObject({ title: 'No Year', year: 0 });
  });

  it('bytes that are not a movie: null', () => {
    expect(peekCopy(Buffer.from([0xff, 0xff, 0xff]), 1)).toBeNull();
  });
});
