import type { ObjectId } from 'mongodb';
import {
  CacheTier,
  type ConsistencyHorizon,
} from '../../src/generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../src/metrics/metrics.service';
import { movieKey } from '../../src/redis/cache-keys';
import { hex, movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';

/**
 * The live consistency checker sees what it must: faults the service cannot see itself, each
 * forced behind its back, are detected at the checker's horizon and healed; a clean run with
 * writes finds none; a write made after an answer does not count against it.
 */

/** Every hit sampled, checked 1 s and 3 s after its answer; no change feed unless said. */
const CHECKED = {
  CONSISTENCY_SAMPLE_RATE: '1',
  CONSISTENCY_MAX_PER_SECOND: '1000',
  CONSISTENCY_HORIZONS: '1,3',
  CHANGE_FEED: 'off',
  NEAR_CACHE_TTL_MS: '60000',
};
/**
 * An answer served after the checker first read MongoDB's version is judged at its horizon: the
 * first stale answer is undecided at 1 s (a write may have been concurrent), the next ones are
 * inconsistent 1 s after they were served. Two horizons and the checker's ticks, with margin.
 */
const DETECTED_WITHIN_MS = 4_000;

const horizon = async (t: TestApp, seconds: number): Promise<ConsistencyHorizon> =>
  (await t.api.getCacheStats()).consistency!.horizons.find((h) => h.seconds === seconds)!;

/** Reads `id` every 100 ms until `done` holds; returns how long it took. */
async function readUntil(
  t: TestApp,
  id: string,
  done: (revision: number, rating?: number) => boolean,
): Promise<number> {
  const started = Date.now();
  await until(async () => {
    const { movie } = await t.api.getMovie({ id });
    if (done(movie!.revision, movie!.rating)) return true;
    await sleep(50);
    return false;
  }, DETECTED_WITHIN_MS + 4_000);
  return Date.now() - started;
}

async function healsByTier(t: TestApp): Promise<Record<string, number>> {
  const { values } = await t.app.get(MetricsService).consistencyHeals.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.tier), v.value]));
}

describe('the live consistency checker', () => {
  let t: TestApp | undefined;
  let other: TestApp | undefined;
  afterEach(async () => {
    await other?.close();
    await t?.close();
    other = t = undefined;
  });

  it('a stale copy written straight into Redis behind the service’s back: detected and healed', async () => {
    const movie = movieFactory({ title: 'Checker Restored', rating: 5, revision: 0 });
    const id = hex(movie);
    t = await startTestApp({ env: CHECKED, movies: [movie] });
    await t.api.getMovie({ id });
    const [old, ttl] = [await t.redis.dumpBuffer(movieKey(id)), await t.redis.pttl(movieKey(id))];
    await t.api.updateRating({ id, rating: 9 });
    // The fault: revision 0 put back in Redis as it was, past the write-through.
    await t.redis.restore(movieKey(id), ttl, old!, 'REPLACE');
    expect((await t.api.getMovie({ id })).movie?.revision).toBe(0);

    const took = await readUntil(t, id, (revision) => revision === 1);

    expect(took).toBeLessThan(DETECTED_WITHIN_MS);
    expect((await horizon(t, 1)).inconsistent).toBeGreaterThanOrEqual(1);
    expect((await t.api.getCacheStats()).consistency?.heals).toBeGreaterThanOrEqual(1);
    expect((await t.api.getMovie({ id })).movie).toMatchObject({ revision: 1, rating: 9 });
  });

  it('a direct MongoDB write with the change feed off: detected and healed', async () => {
    const movie = movieFactory({ title: 'Checker Direct', rating: 5, revision: 0 });
    const id = hex(movie);
    t = await startTestApp({ env: CHECKED, movies: [movie] });
    for (let i = 0; i < 2; i += 1) await t.api.getMovie({ id }); // a near-cache copy

    await t.movies.updateOne({ _id: movie._id as ObjectId }, { $set: { 'imdb.rating': 9.5 } });
    expect((await t.api.getMovie({ id })).movie?.rating).toBe(5); // nothing told the cache
    const took = await readUntil(t, id, (_, rating) => rating === 9.5);

    expect(took).toBeLessThan(DETECTED_WITHIN_MS);
    expect((await horizon(t, 1)).inconsistent).toBeGreaterThanOrEqual(1);
    expect((await t.api.getCacheStats()).consistency?.heals).toBeGreaterThanOrEqual(1);
  });

  it('a lowered revision from an import (a movie deleted and inserted again): detected and healed', async () => {
    const movie = movieFactory({ title: 'Checker Imported', rating: 5, revision: 5 });
    const id = hex(movie);
    t = await startTestApp({ env: CHECKED, movies: [movie] });
    for (let i = 0; i < 2; i += 1) await t.api.getMovie({ id });

    await t.movies.deleteOne({ _id: movie._id as ObjectId });
    await t.movies.insertOne({ ...movie, revision: 0, imdb: { ...movie.imdb, rating: 1 } });
    expect((await t.api.getMovie({ id })).movie?.revision).toBe(5);
    const took = await readUntil(t, id, (revision) => revision === 0);

    expect(took).toBeLessThan(DETECTED_WITHIN_MS);
    expect((await horizon(t, 1)).inconsistent).toBeGreaterThanOrEqual(1);
    // Healed for good: the fence follows MongoDB's lowered revision, and the copy is cached again.
    expect((await t.api.getMovie({ id })).movie).toMatchObject({ revision: 0, rating: 1 });
    expect((await t.api.getMovie({ id })).cacheTier).not.toBe(CacheTier.CACHE_TIER_UNSPECIFIED);
  });

  it('a title moved to another movie behind the cache’s back: detected and healed', async () => {
    const first = movieFactory({ title: 'Checker Twins', year: 1999, votes: 900 });
    const second = movieFactory({ title: 'Checker Twins', year: 1999, votes: 100 });
    t = await startTestApp({ env: CHECKED, movies: [first, second] });
    for (let i = 0; i < 2; i += 1) await t.api.getMovie({ title: 'Checker Twins' });

    await t.movies.updateOne({ _id: second._id as ObjectId }, { $set: { 'imdb.votes': 5_000 } });
    const started = Date.now();
    await until(async () => {
      const { movie } = await t!.api.getMovie({ title: 'Checker Twins' });
      await sleep(50);
      return movie?.id === hex(second);
    }, DETECTED_WITHIN_MS + 4_000);

    expect(Date.now() - started).toBeLessThan(DETECTED_WITHIN_MS);
    expect((await horizon(t, 1)).inconsistent).toBeGreaterThanOrEqual(1);
  });

  it('a near-cache copy kept past its invalidation (the message lost): detected on that instance and healed', async () => {
    const movie = movieFactory({ title: 'Checker Deaf', rating: 5, revision: 0 });
    const id = hex(movie);
    let lose = false;
    t = await startTestApp({ env: CHECKED, movies: [movie] });
    other = await startTestApp({
      env: CHECKED,
      config: { mongoUri: t.config.mongoUri },
      keepRedis: true,
      hooks: {
        beforeFill: () => Promise.resolve(),
        // The forced fault: this instance loses the invalidation, though it keeps hearing pings.
        beforeDelivery: (message) =>
          Promise.resolve(!(lose && message.startsWith('invalidate ') && message.endsWith(id))),
      },
    });
    const deaf = other;
    await until(
      async () => (await deaf.api.getMovie({ id })).cacheTier === CacheTier.CACHE_TIER_LOCAL,
    );

    lose = true;
    await t.api.updateRating({ id, rating: 9 }); // waits out the deaf instance's lease
    lose = false;
    expect(await deaf.api.getMovie({ id })).toMatchObject({
      movie: { revision: 0 },
      cacheTier: CacheTier.CACHE_TIER_LOCAL,
    });
    const took = await readUntil(deaf, id, (revision) => revision === 1);

    expect(took).toBeLessThan(DETECTED_WITHIN_MS);
    expect((await horizon(deaf, 1)).inconsistent).toBeGreaterThanOrEqual(1);
    expect((await healsByTier(deaf)).local).toBeGreaterThanOrEqual(1);
    expect((await horizon(t, 1)).inconsistent).toBe(0);
  });

  it('a write made after the answer does not count: undecided, not inconsistent, not healed; answers after it was seen do', async () => {
    const movie = movieFactory({ title: 'Checker Concurrent', rating: 5, revision: 0 });
    const id = hex(movie);
    t = await startTestApp({ env: CHECKED, movies: [movie] });
    for (let i = 0; i < 4; i += 1) await t.api.getMovie({ id }); // a miss, then 3 sampled hits

    await t.movies.updateOne({ _id: movie._id as ObjectId }, { $set: { 'imdb.rating': 9.5 } });
    await sleep(3_600); // both horizons of every answer so far

    const [one, three] = [await horizon(t, 1), await horizon(t, 3)];
    expect(one).toMatchObject({ inconsistent: 0, undecided: 3 });
    expect(three).toMatchObject({ inconsistent: 0, undecided: 3 });
    expect((await t.api.getCacheStats()).consistency?.heals).toBe(0);
    expect((await t.api.getMovie({ id })).movie?.rating).toBe(5); // still the old copy
    await readUntil(t, id, (_, rating) => rating === 9.5);
    expect((await horizon(t, 1)).inconsistent).toBeGreaterThanOrEqual(1);
  });

  it('a clean run under load, with writes through both instances, finds nothing inconsistent', async () => {
    const movies = Array.from({ length: 10 }, (_, i) =>
      movieFactory({ title: `Checker Load ${i}`, rating: 5, revision: 0 }),
    );
    const ids = movies.map(hex);
    const env = { ...CHECKED, CHANGE_FEED: 'auto' };
    t = await startTestApp({ env, movies });
    other = await startTestApp({ env, config: { mongoUri: t.config.mongoUri }, keepRedis: true });
    const fleet = [t, other];
    const until8s = Date.now() + 8_000;
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const reader = async (i: number) => {
      while (Date.now() < until8s) await fleet[i % 2].api.getMovie({ id: pick() });
    };
    let writes = 0;
    const writer = async () => {
      while (Date.now() < until8s) {
        await fleet[writes % 2].api.updateRating({ id: pick(), rating: (writes % 100) / 10 });
        writes += 1;
        await sleep(20);
      }
    };
    await Promise.all([0, 1, 2, 3].map(reader).concat(writer()));
    await sleep(3_600);

    for (const instance of fleet) {
      const { consistency } = await instance.api.getCacheStats();
      for (const h of consistency!.horizons) {
        expect(h.inconsistent).toBe(0);
        expect(h.checks).toBeGreaterThan(100);
      }
      expect(consistency?.heals).toBe(0);
    }
    expect(writes).toBeGreaterThan(50);
  }, 30_000);
});
