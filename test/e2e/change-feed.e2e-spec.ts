import { status } from '@grpc/grpc-js';
import { CacheStatus, CacheTier } from '../../src/generated/nest/movies/v1/movie_service';
import { FEED_TOKEN_KEY, fenceKey, movieKey } from '../../src/redis/cache-keys';
import { CHANGE_FEED_HEALTH } from '../../src/ops/health.monitor';
import { hex, movieFactory } from '../factories/movie.factory';
import {
  expectCountersToRise,
  feedCounters,
  FEED_ENV,
  fleet,
  killFeedListener,
  leadingWithAdmin,
  onPostgres,
  otherDatabasesBusy,
  SEEN_WITHIN_MS,
  warm,
  type FeedCounters,
} from '../support/change-feed-fleet';
import { statusOf } from '../support/grpc-status';
import { fillGate } from '../support/fill-gate';
import { buildService, spawnService } from '../support/service-process';
import { checkHealth } from '../support/health-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { inspectRedis, isolatedMongoUri, testServers } from '../support/test-env';
import { sleep, until } from '../support/wait';
import { readCopy } from '../support/cached-copy';

onPostgres('the change feed on the embedded database: writes made outside the service', () => {
  beforeAll(buildService);

  describe('seen by both instances with warm near-caches', () => {
    let a: TestApp;
    let b: TestApp;
    const kept = movieFactory({ title: 'Feed Kept', rating: 5 });
    const renamed = movieFactory({ title: 'Feed Old Title' });
    const doomed = movieFactory({ title: 'Feed Doomed' });
    let before: FeedCounters;

    beforeAll(async () => {
      ({ a, b } = await fleet({ movies: [kept, renamed, doomed] }));
      for (const t of [a, b])
        for (const movie of [kept, renamed, doomed]) await warm(t, hex(movie));
      before = await feedCounters(a, b); // the seed was inserted before either feed started
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it('an updateOne through the driver', async () => {
      await a.movies.updateOne({ _id: kept._id }, { $set: { 'imdb.rating': 9.1 } });

      for (const t of [a, b])
        await until(
          async () => (await t.api.getMovie({ id: hex(kept) })).movie?.rating === 9.1,
          SEEN_WITHIN_MS,
        );
    });

    it('a replaceOne that renames: the new title finds it, the old one no longer does', async () => {
      for (const t of [a, b]) await t.api.getMovie({ title: 'Feed Old Title' });
      const { _id, ...rest } = renamed;
      await a.movies.replaceOne({ _id }, { ...rest, title: 'Feed New Title' });

      for (const t of [a, b]) {
        await until(
          async () =>
            (await t.api.getMovie({ id: hex(renamed) })).movie?.title === 'Feed New Title',
          SEEN_WITHIN_MS,
        );
        await expect(t.api.getMovie({ title: 'Feed Old Title' })).rejects.toMatchObject({
          code: status.NOT_FOUND,
        });
        expect((await t.api.getMovie({ title: 'Feed New Title' })).movie?.id).toBe(hex(renamed));
      }
    });

    it('an insertOne of a title that was remembered absent', async () => {
      for (const t of [a, b])
        await expect(t.api.getMovie({ title: 'Feed Newcomer' })).rejects.toMatchObject({
          code: status.NOT_FOUND,
        });
      const newcomer = movieFactory({ title: 'Feed Newcomer' });
      await a.movies.insertOne(newcomer);

      for (const t of [a, b])
        await until(
          async () =>
            (await t.api.getMovie({ title: 'Feed Newcomer' })).movie?.id === hex(newcomer),
          SEEN_WITHIN_MS,
        );
    });

    it('a deleteOne', async () => {
      await a.movies.deleteOne({ _id: doomed._id });

      for (const t of [a, b])
        await until(
          async () => (await statusOf(t.api.getMovie({ id: hex(doomed) }))) === status.NOT_FOUND,
          SEEN_WITHIN_MS,
        );
    });

    it('counts the changes it applied, with their lag, and reports itself healthy', async () => {
      // The writes above, on /metrics, whichever instance led: no more, no flush. FerretDB makes
      // a replaceOne an SQL UPDATE, so the outbox records it as an update.
      await expectCountersToRise([a, b], before, {
        changes: { update: 2, insert: 1, delete: 1 },
        flushes: {},
      });
      const stats = await Promise.all([a.api.getCacheStats(), b.api.getCacheStats()]);
      const leader = stats.find((s) => s.changeFeed?.leader)!.changeFeed!;

      expect(leader).toMatchObject({ source: 'postgres-outbox', state: 'leading' });
      expect(leader.applied).toBeGreaterThanOrEqual(4);
      expect(stats.map((s) => s.changeFeed?.state).sort()).toEqual(['leading', 'standby']);
      expect(await checkHealth(a.address, CHANGE_FEED_HEALTH)).toBe('SERVING');
    });

    it('an UpdateRating comes back through the feed without undoing its write-through: once the feed applied it, the next read on each instance is a hit with the new rating', async () => {
      const applied = async () =>
        (await Promise.all([a, b].map((t) => t.api.getCacheStats()))).reduce(
          (sum, stats) => sum + Number(stats.changeFeed?.applied ?? 0),
          0,
        );
      const appliedBefore = await applied();

      const { movie: written } = await a.api.updateRating({ id: hex(kept), rating: 6.2 });
      await until(async () => (await applied()) > appliedBefore, SEEN_WITHIN_MS);

      for (const t of [a, b])
        expect(await t.api.getMovie({ id: hex(kept) })).toMatchObject({
          cacheStatus: CacheStatus.CACHE_STATUS_HIT,
          movie: { rating: 6.2, revision: written!.revision },
        });
    });
  });

  it('without a source (FerretDB without CHANGE_FEED_POSTGRES_URL, like a standalone mongod), the feed is off and says so', async () => {
    const service = await spawnService({
      CHANGE_FEED: 'auto',
      MONGODB_URI: isolatedMongoUri(testServers().mongoUri),
      LOG_LEVEL: 'warn',
    });
    try {
      await until(async () => (await service.api.getCacheStats()).changeFeed?.state === 'off');
      expect((await service.api.getCacheStats()).changeFeed).toMatchObject({
        source: '',
        leader: false,
      });
      expect(await checkHealth(service.address, CHANGE_FEED_HEALTH)).toBe('SERVING');
      // The boot log names why, what to set, and what readers get meanwhile.
      await until(async () => service.output().includes('change feed off'));
      const warning = service
        .output()
        .split('\n')
        .find((line) => line.includes('change feed off'));
      expect(JSON.parse(warning!)).toMatchObject({ level: 40, context: 'ChangeFeed' });
      expect(warning).toContain('MongoDB is standalone');
      expect(warning).toContain('set CHANGE_FEED_POSTGRES_URL');
      expect(warning).toContain('seen once cached copies expire (CACHE_TTL_SECONDS)');
    } finally {
      await service.stop();
    }
  });

  it('a write racing a miss, after its MongoDB read and before its fill: the older copy is not cached', async () => {
    const movie = movieFactory({ rating: 4 });
    const id = hex(movie);
    const gate = fillGate(id);
    const t = await startTestApp({ env: FEED_ENV, movies: [movie], hooks: gate.hook });
    try {
      await until(async () => (await t.api.getCacheStats()).changeFeed?.state === 'leading');
      await sleep(300); // the insert's own change applied
      const miss = t.api.getMovie({ id });
      await gate.reached();
      const fence = await t.redis.get(fenceKey(id));

      await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 8.8 } });
      await until(async () => (await t.redis.get(fenceKey(id))) !== fence, SEEN_WITHIN_MS);
      gate.release();
      await gate.reached(); // the refused fill reads MongoDB again
      gate.release();

      expect((await miss).movie?.rating).toBe(8.8);
      expect((await readCopy(t.redis, id))?.rating).toBe(8.8);
    } finally {
      await t.close();
    }
  });

  it('the leader killed (SIGKILL) mid-stream: the other instance takes over and no change is lost', async () => {
    const movies = Array.from({ length: 40 }, () => movieFactory({ rating: 1 }));
    const mongoUri = isolatedMongoUri(testServers().mongoUri);
    const redis = inspectRedis(testServers().redisUrl);
    await redis.flushdb();
    redis.disconnect();
    const victim = await spawnService({ ...FEED_ENV, MONGODB_URI: mongoUri });
    await until(async () => (await victim.api.getCacheStats()).changeFeed?.leader === true);
    const other = await startTestApp({
      env: FEED_ENV,
      config: { mongoUri },
      movies,
      keepRedis: true,
    });
    try {
      for (const movie of movies) await warm(other, hex(movie));
      const before = await feedCounters(other);

      const writes = (async () => {
        for (const [i, movie] of movies.entries()) {
          await other.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 2 + i / 10 } });
          await sleep(15);
        }
      })();
      await sleep(200);
      victim.kill();
      await writes;

      await until(async () => (await other.api.getCacheStats()).changeFeed?.leader === true);
      for (const [i, movie] of movies.entries())
        await until(
          async () => (await other.api.getMovie({ id: hex(movie) })).movie?.rating === 2 + i / 10,
          SEEN_WITHIN_MS,
        );
      // It resumed from the victim's token: nothing flushed (the victim's last batch may come twice).
      expect((await other.api.getCacheStats()).changeFeed).toMatchObject({ flushes: 0 });
      expect((await other.api.getCacheStats()).changeFeed?.resumes).toBeGreaterThanOrEqual(1);
      await expectCountersToRise([other], before, { flushes: {}, resumes: 1 });
    } finally {
      victim.kill();
      await other.close();
    }
  });

  it('its connection to PostgreSQL killed: it resumes from its token and loses nothing', async () => {
    const movie = movieFactory({ rating: 3 });
    const { t, admin } = await leadingWithAdmin(movie);
    try {
      const before = (await t.api.getCacheStats()).changeFeed!.resumes;
      const counted = await feedCounters(t);

      expect(await killFeedListener(admin, t)).toBeGreaterThanOrEqual(1);
      await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 6.5 } });

      await until(
        async () => (await t.api.getMovie({ id: hex(movie) })).movie?.rating === 6.5,
        SEEN_WITHIN_MS,
      );
      expect((await t.api.getCacheStats()).changeFeed?.resumes).toBeGreaterThan(before);
      await expectCountersToRise([t], counted, { changes: { update: 1 }, flushes: {}, resumes: 1 });
    } finally {
      await admin.end();
      await t.close();
    }
  });

  it('a token that cannot be resumed: every cached movie is flushed, near-caches too', async () => {
    const movie = movieFactory({ rating: 3 });
    const { t, admin } = await leadingWithAdmin(movie);
    // Other databases' transactions (another Jest worker's, say) move the idle position on.
    const busy = await otherDatabasesBusy();
    try {
      const before = (await t.api.getCacheStats()).changeFeed!.flushes;

      // As if the outbox had been pruned past it: the feed must not carry on from there. Planted
      // while the feed is down, since a following feed moves its token on with every poll.
      await killFeedListener(admin, t);
      await until(async () => (await t.api.getCacheStats()).changeFeed!.state === 'recovering');
      await t.redis.set(FEED_TOKEN_KEY, '00000000-0000-0000-0000-000000000000:1:1');

      await until(async () => (await t.api.getCacheStats()).changeFeed!.flushes > before);
      expect(await t.redis.exists(movieKey(hex(movie)))).toBe(0);
      expect((await t.api.getMovie({ id: hex(movie) })).cacheTier).not.toBe(
        CacheTier.CACHE_TIER_LOCAL,
      );
      expect(await t.redis.get(FEED_TOKEN_KEY)).not.toMatch(/^0{8}-/);
    } finally {
      await busy.stop();
      await admin.end();
      await t.close();
    }
  });
});
