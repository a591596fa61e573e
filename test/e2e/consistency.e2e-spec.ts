import { status } from '@grpc/grpc-js';
import { ObjectId } from 'bson';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import { movieFactory } from '../factories/movie.factory';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import { fillCounts, mongoQueryCount, serverCommandCount } from '../support/app-metrics';
import { privateMongo } from '../support/private-mongo';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

describe('one MongoDB read per cold key', () => {
  const movies = [movieFactory({ title: 'Stampede' }), movieFactory({ title: 'Herd' })];
  let a: TestApp;
  let b: TestApp;
  let mongo: Awaited<ReturnType<typeof privateMongo>>;

  beforeAll(async () => {
    // A MongoDB of its own: the server's command counts see only this spec's queries.
    mongo = await privateMongo();
    a = await startTestApp({ movies, config: { mongoUri: mongo.mongoUri } });
    // A second instance on the same MongoDB database and Redis.
    b = await startTestApp({ config: { mongoUri: a.config.mongoUri }, keepRedis: true });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await mongo.stop();
  });

  it('200 concurrent misses on one instance make one query, and all get the movie', async () => {
    const id = movies[0]._id.toHexString();
    const before = await mongoQueryCount(a.app, 'findById');
    const serverFinds = await serverCommandCount(a.app, 'find');

    const responses = await Promise.all(Array.from({ length: 200 }, () => a.api.getMovie({ id })));

    expect(await mongoQueryCount(a.app, 'findById')).toBe(before + 1);
    expect(await serverCommandCount(a.app, 'find')).toBe(serverFinds + 1);
    expect(responses.every((r) => r.movie?.id === id)).toBe(true);
  });

  it('200 concurrent misses split across two instances make one query in all', async () => {
    const id = movies[1]._id.toHexString();
    const before =
      (await mongoQueryCount(a.app, 'findById')) + (await mongoQueryCount(b.app, 'findById'));
    const serverFinds = await serverCommandCount(a.app, 'find');

    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).api.getMovie({ id })),
    );

    const after =
      (await mongoQueryCount(a.app, 'findById')) + (await mongoQueryCount(b.app, 'findById'));
    expect(after - before).toBe(1);
    expect(await serverCommandCount(a.app, 'find')).toBe(serverFinds + 1);
    expect(responses.every((r) => r.movie?.title === 'Herd')).toBe(true);
  });
});

describe('no stale read after an acknowledged write', () => {
  it('a late fill with the old revision does not replace the written one', async () => {
    const movie = movieFactory({ title: 'Race', rating: 5 });
    const id = movie._id.toHexString();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let readerPaused!: () => void;
    const paused = new Promise<void>((resolve) => (readerPaused = resolve));
    const hook: CacheHooks = {
      beforeFill: async (m: Movie) => {
        if (m.id !== id) return;
        readerPaused();
        await gate;
      },
    };
    const t = await startTestApp({ movies: [movie], hooks: hook });
    try {
      // The reader missed and read revision 0 from MongoDB; it is held before its fill.
      const lateReader = t.api.getMovie({ id });
      await paused;
      const written = await t.api.updateRating({ id, rating: 9 });
      release();
      const early = await lateReader;

      const after = await t.api.getMovie({ id });

      // Its fill found the written copy cached and answered with it.
      expect(early.movie?.revision).toBe(1);
      expect(written.movie).toMatchObject({ revision: 1, rating: 9 });
      expect(after).toMatchObject({
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        movie: { revision: 1, rating: 9 },
      });
    } finally {
      await t.close();
    }
  });

  it.each(['on', 'off'])(
    'randomized, two instances, copies and fences vanishing, near-cache %s: every read that starts after an UpdateRating returned sees that revision or newer',
    async (nearCache) => {
      // Longer runs: STRESS_SECONDS=60 (the histories are checked by npm run test:linearizability).
      const seconds = Number(process.env.STRESS_SECONDS ?? 8);
      const movies = Array.from({ length: 4 }, (_, i) => movieFactory({ title: `Stress ${i}` }));
      const ids = movies.map((m) => m._id.toHexString());
      // Random pauses between the MongoDB read and the fill widen the race windows.
      const hook: CacheHooks = {
        beforeFill: () => (Math.random() < 0.3 ? sleep(Math.random() * 15) : Promise.resolve()),
      };
      const env = { CACHE_TTL_SECONDS: '1', CACHE_TTL_JITTER: '0.5', NEAR_CACHE: nearCache };
      const a = await startTestApp({ env, movies, hooks: hook });
      const b = await startTestApp({
        env,
        config: { mongoUri: a.config.mongoUri },
        keepRedis: true,
        hooks: hook,
      });
      const acked = new Map<string, Array<{ at: number; revision: number }>>(
        ids.map((id) => [id, []]),
      );
      const violations: string[] = [];
      const counts = { reads: 0, titleReads: 0, writes: 0, copiesDeleted: 0, fencesDeleted: 0 };
      const deadline = Date.now() + seconds * 1000;
      const pick = () => Math.floor(Math.random() * ids.length);
      const ackedBefore = (id: string, at: number) =>
        Math.max(
          -1,
          ...acked
            .get(id)!
            .filter((w) => w.at <= at)
            .map((w) => w.revision),
        );

      const reader = (t: TestApp) => async () => {
        while (Date.now() < deadline) {
          const i = pick();
          const byTitle = Math.random() < 0.25;
          const started = performance.now();
          const { movie } = await t.api.getMovie(
            byTitle ? { title: `Stress ${i}` } : { id: ids[i] },
          );
          counts.reads += 1;
          if (byTitle) counts.titleReads += 1;
          const floor = ackedBefore(ids[i], started);
          if (movie!.revision < floor)
            violations.push(
              `${ids[i]}: read revision ${movie!.revision} after ${floor} was acknowledged`,
            );
        }
      };
      const writer = (t: TestApp) => async () => {
        while (Date.now() < deadline) {
          const id = ids[pick()];
          const { movie } = await t.api.updateRating({
            id,
            rating: Math.round(Math.random() * 100) / 10,
          });
          acked.get(id)!.push({ at: performance.now(), revision: movie!.revision });
          counts.writes += 1;
          await sleep(Math.random() * 20);
        }
      };
      // Expiry and eviction behind the service's back: copies, and now and then their fences.
      const chaos = async () => {
        while (Date.now() < deadline) {
          const id = ids[pick()];
          if (Math.random() < 0.2) {
            await a.redis.del(movieKey(id), fenceKey(id));
            counts.fencesDeleted += 1;
          } else await a.redis.del(movieKey(id));
          counts.copiesDeleted += 1;
          await sleep(Math.random() * 10);
        }
      };
      try {
        await Promise.all([
          ...Array.from({ length: 8 }, (_, i) => reader(i % 2 ? a : b)()),
          writer(a)(),
          writer(b)(),
          chaos(),
        ]);
        const fillOutcomes = await Promise.all([a, b].map((t) => fillCounts(t.app)));
        console.log(`stale-read checker, near-cache ${nearCache}`, {
          ...counts,
          stale: violations.length,
          fills: fillOutcomes,
        });
      } finally {
        await b.close();
        await a.close();
      }

      expect(violations).toEqual([]);
      // Enough happened for the check to mean something, however slow the machine.
      expect(counts.reads).toBeGreaterThan(200);
      expect(counts.writes).toBeGreaterThan(20);
    },
    120_000,
  );
});

describe('negative caching', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers repeated lookups of an unknown id from the cache', async () => {
    const id = new ObjectId().toHexString();
    const before = await mongoQueryCount(t.app, 'findById');

    for (let i = 0; i < 20; i += 1) {
      await expect(t.api.getMovie({ id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    }

    expect((await mongoQueryCount(t.app, 'findById')) - before).toBe(1);
  });

  it('answers repeated lookups of an unknown title from the cache', async () => {
    const before = await mongoQueryCount(t.app, 'findByTitle');
    for (let i = 0; i < 10; i += 1) {
      await expect(t.api.getMovie({ title: 'Not Yet Made' })).rejects.toMatchObject({
        code: status.NOT_FOUND,
      });
    }
    expect((await mongoQueryCount(t.app, 'findByTitle')) - before).toBe(1);
  });

  it('makes a movie written later visible at once: the write path clears the absence', async () => {
    const movie = movieFactory({ title: 'Late Arrival' });
    const id = movie._id.toHexString();
    await expect(t.api.getMovie({ id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await t.movies.insertOne(movie);

    await t.api.updateRating({ id, rating: 6.6 });

    expect((await t.api.getMovie({ id })).movie).toMatchObject({
      title: 'Late Arrival',
      rating: 6.6,
    });
  });
});

describe('negative caching expiry', () => {
  it('forgets an absence after NEGATIVE_TTL_SECONDS', async () => {
    const t = await startTestApp({ env: { NEGATIVE_TTL_SECONDS: '1' } });
    try {
      const movie = movieFactory({ title: 'Eventually' });
      const id = movie._id.toHexString();
      await expect(t.api.getMovie({ id })).rejects.toMatchObject({ code: status.NOT_FOUND });
      await t.movies.insertOne(movie);
      await sleep(1_200);

      expect((await t.api.getMovie({ id })).movie?.title).toBe('Eventually');
    } finally {
      await t.close();
    }
  });
});
