import { bucketStart, compareScored, rankReply, sameEntries, windowBuckets } from './ranking';

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

  it('compares snapshots by ids, counts and titles', () => {
    const entry = { rank: 1, movieId: 'x', title: 'X', views: 1 };
    expect(sameEntries([entry], [{ ...entry }])).toBe(true);
    expect(sameEntries([entry], [{ ...entry, views: 2 }])).toBe(false);
    expect(sameEntries([entry], [])).toBe(false);
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

  it('always includes the current bucket, even for a window shorter than a bucket', () => {
    expect(windowBuckets(1_000_012_500, 1, 5)).toEqual([1_000_010]);
  });

  it('spans a 24 h window with one key per bucket', () => {
    expect(windowBuckets(Date.now(), 86_400, 5)).toHaveLength(86_400 / 5);
  });
});
