import { MoviesRepository } from '../../src/movies/movies.repository';
import {
  TRENDING_ALL_KEY,
  TRENDING_TITLES_KEY,
  trendingBucketKey,
} from '../../src/redis/cache-keys';
import { LeaderboardProvider } from '../../src/trending/leaderboard.provider';
import { bucketStart } from '../../src/trending/ranking';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';

/** Titles from MongoDB are not the point here: a double that answers like the repository. */
class TitleSource {
  queries: string[][] = [];
  async findTitles(ids: string[]): Promise<Map<string, string>> {
    this.queries.push(ids);
    return new Map(ids.map((id) => [id, `Title of ${id}`]));
  }
}

const id = (n: number) => n.toString(16).padStart(24, '0');

describe(LeaderboardProvider.name, () => {
  let env: CacheTestingModule;
  let titles: TitleSource;
  let sut: LeaderboardProvider;

  beforeAll(async () => {
    env = await cacheTestingModule(
      [LeaderboardProvider, { provide: MoviesRepository, useClass: TitleSource }],
      { env: { TRENDING_BUCKET_SECONDS: '5', VIEW_FLUSH_MS: '10000' } },
    );
    sut = env.module.get(LeaderboardProvider);
    titles = env.module.get(MoviesRepository);
  });
  afterAll(() => env.module.close());
  beforeEach(async () => {
    await env.redis.flushdb();
    titles.queries = [];
  });

  it('writes buffered views in one flush: all-time, the bucket (with expiry) and titles', async () => {
    const now = Date.now();
    sut.recordView(id(1), 'One', now);
    sut.recordView(id(1), 'One', now);
    sut.recordView(id(2), 'Two', now);
    expect(await env.redis.exists(TRENDING_ALL_KEY)).toBe(0);

    await sut.flush();

    const bucket = trendingBucketKey(bucketStart(now, 5));
    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(1))).toBe('2');
    expect(await env.redis.zscore(bucket, id(2))).toBe('1');
    expect(await env.redis.ttl(bucket)).toBeGreaterThan(86_400);
    expect(await env.redis.hget(TRENDING_TITLES_KEY, id(2))).toBe('Two');
  });

  it('breaks ties by id even when more members tie than the limit allows', async () => {
    const now = Date.now();
    for (const n of [9, 3, 7, 5, 1]) sut.recordView(id(n), `M${n}`, now);
    sut.recordView(id(8), 'M8', now);
    sut.recordView(id(8), 'M8', now);
    await sut.flush();

    const top = await sut.topMovies(0, 3);

    expect(top.map((e) => [e.rank, e.movieId, e.views])).toEqual([
      [1, id(8), 2],
      [2, id(1), 1],
      [3, id(3), 1],
    ]);
  });

  it('counts only the buckets inside a window', async () => {
    const now = Date.now();
    sut.recordView(id(1), 'Old', now - 30_000);
    sut.recordView(id(2), 'Recent', now - 1_000);
    await sut.flush();

    expect((await sut.topMovies(10, 10)).map((e) => e.movieId)).toEqual([id(2)]);
    expect((await sut.topMovies(60, 10)).map((e) => e.movieId)).toEqual([id(1), id(2)].sort());
    expect(await env.redis.keys('trending:window:*')).toEqual([]);
  });

  it("writes a movie's title once, not every flush; again when it changes", async () => {
    const now = Date.now();
    sut.recordView(id(7), 'Seven', now);
    await sut.flush();
    await env.redis.hdel(TRENDING_TITLES_KEY, id(7));

    sut.recordView(id(7), 'Seven', now);
    await sut.flush();
    const unchanged = await env.redis.hget(TRENDING_TITLES_KEY, id(7));
    sut.recordView(id(7), 'Seven (restored)', now);
    await sut.flush();

    expect(unchanged).toBeNull();
    expect(await env.redis.hget(TRENDING_TITLES_KEY, id(7))).toBe('Seven (restored)');
    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(7))).toBe('3');
  });

  it('reads titles from Redis, asking MongoDB once for those it lacks', async () => {
    await env.redis.zincrby(TRENDING_ALL_KEY, 3, id(4));
    await env.redis.zincrby(TRENDING_ALL_KEY, 2, id(5));
    await env.redis.hset(TRENDING_TITLES_KEY, id(4), 'Known');

    const first = await sut.topMovies(0, 10);
    const second = await sut.topMovies(0, 10);

    expect(first.map((e) => e.title)).toEqual(['Known', `Title of ${id(5)}`]);
    expect(second).toEqual(first);
    expect(titles.queries).toEqual([[id(5)]]);
  });

  it('keeps views buffered while Redis is unreachable and writes them once it answers', async () => {
    sut.recordView(id(6), 'Buffered');
    const ended = new Promise((resolve) => env.redis.once('end', resolve));
    env.redis.disconnect();
    await ended;
    await sut.flush();
    await env.redis.connect();
    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(6))).toBeNull();

    await sut.flush();

    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(6))).toBe('1');
  });

  it('writes a part that failed again, and the parts that were written not twice', async () => {
    const now = Date.now();
    const bucket = trendingBucketKey(bucketStart(now, 5));
    await env.redis.set(bucket, 'not a sorted set'); // the bucket's ZINCRBY fails, all-time's does not
    sut.recordView(id(7), 'Seven', now);
    sut.recordView(id(7), 'Seven', now);
    await sut.flush();
    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(7))).toBe('2');
    await env.redis.del(bucket);
    sut.recordView(id(7), 'Seven', now);

    await sut.flush();

    expect(await env.redis.zscore(bucket, id(7))).toBe('3');
    expect(await env.redis.zscore(TRENDING_ALL_KEY, id(7))).toBe('3');
  });
});
