import { apiMovieFactory } from '../../../test/factories/api-movie.factory';
import { CachedCopy } from './cached-copy';
import { encodeCopy } from './movie-copy.codec';

describe(CachedCopy.name, () => {
  const movie = apiMovieFactory({ title: 'Headed', revision: 12 });
  const value = (header: string) => Buffer.concat([Buffer.from(`${header}\n`), encodeCopy(movie)]);

  it('reads the revision, expiry and settling time from the header, and the movie after it', () => {
    const copy = CachedCopy.of(value('v2 12 1765100000123 1765100000456'));

    expect(copy).toMatchObject({ expiresAt: 1765100000123, settlesAt: 1765100000456 });
    expect(copy?.ref).toMatchObject({ id: movie.id, revision: 12 });
    expect(copy?.movie()).toEqual(movie);
  });

  it('reads a number the header writes otherwise than in digits', () => {
    expect(CachedCopy.of(value('v2 12 1.7651e12 0'))).toMatchObject({
      expiresAt: 1.7651e12,
      settlesAt: 0,
    });
  });

  it.each([
    ['another format', 'v3 12 1765100000123 0'],
    ['a missing field', 'v2 12 1765100000123'],
    ['an empty field', 'v2 12  0'],
    ['a field that is not a number', 'v2 12 soon 0'],
    ['a field too many', 'v2 12 1765100000123 0 7'],
  ])('treats a header with %s as no copy', (_, header) => {
    expect(CachedCopy.of(value(header))).toBeNull();
  });

  it('treats a value without a header line as no copy', () => {
    expect(CachedCopy.of(Buffer.from('v2 12 1765100000123 0'))).toBeNull();
  });
});
