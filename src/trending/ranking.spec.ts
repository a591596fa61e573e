import {
  bucketStart,
  compareScored,
  rankReply,
  sameEntries,
  toEntries,
  windowBuckets,
} from './ranking';
import { apiMovieFactory } from '../../test/factories/api-movie.factory';

describe('ranking', () => {
  it('orders by views descending, then movie id ascending', () => {
    const sorted = [
      { movieId: 'b', views: 2 },
      { movieId: 'c', views: 5 },
      { movieId: 'a', views: 2 },
    ].sort(compareScored);

    expect(sorted.map((s) => s.movieId)).toEqual(['c', 'a', 'b']);
  });

  it('ranks a flat Redis reply and cuts it to the limit', () => {
    const reply = ['m3', '1', 'm2', '4', 'm1', '1', 'm0', '1'];

    expect(rankReply(reply, 3)).toEqual([
      { movieId: 'm2', views: 4 },
      { movieId: 'm0', views: 1 },
      { movieId: 'm1', views: 1 },
    ]);
  });

  it('is a total order: equal only for the same movie, ids breaking ties either way', () => {
    const a = { movieId: 'a', views: 1 };
    const b = { movieId: 'b', views: 1 };
    expect(compareScored(a, b)).toBeLessThan(0);
    expect(compareScored(b, a)).toBeGreaterThan(0);
    expect(compareScored(a, { ...a })).toBe(0);
  });

  it('names entries with their titles, an unknown title as empty', () => {
    const entries = toEntries(
      [
        { movieId: 'm1', views: 3 },
        { movieId: 'm2', views: 1 },
      ],
      new Map([['m1', 'One']]),
    );
    expect(entries).toEqual([
      { rank: 1, movieId: 'm1', title: 'One', views: 3 },
      { rank: 2, movieId: 'm2', title: '', views: 1 },
    ]);
  });

  it('compares snapshots by ids, counts, titles and the revisions of their movies, at every position', () => {
    const first = { rank: 1, movieId: 'x', title: 'X', views: 1, movie: undefined };
    const second = { rank: 2, movieId: 'y', title: 'Y', views: 1, movie: undefined };
    expect(sameEntries([first, second], [{ ...first }, { ...second }])).toBe(true);
    expect(sameEntries([first], [{ ...first, views: 2 }])).toBe(false);
    expect(sameEntries([first], [{ ...first, movieId: 'z' }])).toBe(false);
    expect(sameEntries([first], [{ ...first, title: 'Z' }])).toBe(false);
    expect(sameEntries([first, second], [{ ...first }, { ...second, views: 5 }])).toBe(false);
    expect(sameEntries([first], [])).toBe(false);
    const movie = apiMovieFactory();
    expect(sameEntries([{ ...first, movie }], [{ ...first, movie: { ...movie } }])).toBe(true);
    expect(sameEntries([{ ...first, movie }], [first])).toBe(false);
    expect(
      sameEntries([{ ...first, movie }], [{ ...first, movie: { ...movie, revision: 1 } }]),
    ).toBe(false);
  });
});

describe('window buckets', () => {
  it('puts a moment in the bucket that starts at or before it', () => {
    expect(bucketStart(1_000_004_999, 5)).toBe(1_000_000);
    expect(bucketStart(1_000_005_000, 5)).toBe(1_000_005);
  });

  it('covers the buckets that began inside the window, newest first', () => {
    // now = 1,000,012.5 s; window 10 s starts at 1,000,002.5 s
    expect(windowBuckets(1_000_012_500, 10, 5)).toEqual([1_000_010, 1_000_005]);
    expect(windowBuckets(1_000_012_500, 13, 5)).toEqual([1_000_010, 1_000_005, 1_000_000]);
  });

  it('includes a bucket that began exactly at the window start', () => {
    // now = 1,000,012 s; a 12 s window starts at 1,000,000 s, a bucket's start
    expect(windowBuckets(1_000_012_000, 12, 5)).toEqual([1_000_010, 1_000_005, 1_000_000]);
  });

  it('always includes the current bucket, even for a window shorter than a bucket', () => {
    expect(windowBuckets(1_000_012_500, 1, 5)).toEqual([1_000_010]);
  });

  it('spans a 24 h window with one key per bucket', () => {
    expect(windowBuckets(Date.now(), 86_400, 5)).toHaveLength(86_400 / 5);
  });
});
