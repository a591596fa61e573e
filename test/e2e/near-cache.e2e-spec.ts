import { CacheTier } from '../../src/generated/client/movies/v1/movie_service';
import { CacheInstance } from '../../src/movies/cache/near/coherence-messages';
import { CachedCopy } from '../../src/movies/cache/cached-copy';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import { NEAR_CACHE_INSTANCES_KEY, movieKey } from '../../src/redis/cache-keys';
import { movieFactory } from '../factories/movie.factory';
import { redisNow } from '../support/cached-copy';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';

const LEASE_MS = 500;

/** Two instances on one MongoDB and Redis, each with its near-cache. */
async function twoInstances(movies: ReturnType<typeof movieFactory>[], hooksOfB?: CacheHooks) {
  const env = { NEAR_CACHE_LEASE_MS: String(LEASE_MS) };
  const a = await startTestApp({ env, movies });
  const b = await startTestApp({
    env,
    config: { mongoUri: a.config.mongoUri },
    keepRedis: true,
    hooks: hooksOfB,
  });
  for (const t of [a, b]) await until(async () => t.app.get(NearCache).serving);
  return { a, b };
}

const servedLocally = async (t: TestApp, id: string) =>
  (await t.api.getMovie({ id })).cacheTier === CacheTier.CACHE_TIER_LOCAL;

/**
 * Reads until the instance serves the movie from its near-cache: a copy filled right after its
 * fence was made is unsettled for the write window, and no near-cache keeps it before.
 */
const nearCached = (t: TestApp, id: string) => until(() => servedLocally(t, id), 10_000);

/**
 * Until the movie's copy is settled: within two write windows of its fence being made, a movie
 * being written is kept by no near-cache (a write whose fence was lost may be in flight).
 */
async function settled(t: TestApp, id: string): Promise<void> {
  await until(async () => {
    const [value, now] = await Promise.all([t.redis.getBuffer(movieKey(id)), redisNow(t.redis)]);
    const copy = value && CachedCopy.of(value);
    // The instances count a copy settled a second after its time (their clock's margin).
    return !copy || copy.settlesAt + 1_000 < now;
  }, 15_000);
}

describe('near-cache coherence across instances', () => {
  it('a read on one instance right after a write on the other never returns the old rating (1,000 times)', async () => {
    const movie = movieFactory({ title: 'Ping Pong', rating: 5 });
    const id = movie._id.toHexString();
    const { a, b } = await twoInstances([movie]);
    let localReads = 0;
    const stale: string[] = [];
    try {
      await Promise.all([nearCached(a, id), nearCached(b, id)]);
      await settled(a, id);
      await a.api.updateRating({ id, rating: 5 }); // its copy now installed under a settled fence
      for (let i = 0; i < 1_000; i += 1) {
        const [writer, reader] = i % 2 ? [a, b] : [b, a];
        const rating = (i % 100) / 10;
        await writer.api.updateRating({ id, rating });
        const { movie: read, cacheTier } = await reader.api.getMovie({ id });
        if (read?.rating !== rating)
          stale.push(`write ${i}: read ${read?.rating}, wrote ${rating}`);
        // Read again: now a near-cache hit, to be invalidated by the next write.
        if ((await reader.api.getMovie({ id })).cacheTier === CacheTier.CACHE_TIER_LOCAL)
          localReads += 1;
        void cacheTier;
      }
    } finally {
      await b.close();
      await a.close();
    }
    expect(stale).toEqual([]);
    expect(localReads).toBeGreaterThan(900);
  }, 120_000);

  it('no read sees a write before every near-cache dropped the old copy: with the invalidation held at the other instance, the writer reads the old revision too (no new-old inversion)', async () => {
    const movie = movieFactory({ title: 'Held Mail', rating: 5 });
    const id = movie._id.toHexString();
    let hold = false;
    let held: Array<() => void> = [];
    const { a, b } = await twoInstances([movie], {
      beforeFill: () => Promise.resolve(),
      beforeDelivery: (message) =>
        hold && message.startsWith('invalidate ')
          ? new Promise((resolve) => held.push(() => resolve(true)))
          : Promise.resolve(true),
    });
    try {
      await Promise.all([nearCached(a, id), nearCached(b, id)]);
      hold = true;
      let acknowledged = false;
      const write = a.api.updateRating({ id, rating: 9 }).then((r) => {
        acknowledged = true;
        return r;
      });
      await until(async () => held.length === 1);

      // Reads one after the other, on the writer and on the other instance, while b holds the
      // old copy: neither may return the new revision ahead of the other's old one.
      const seen: number[] = [];
      for (const t of [a, b, a, b]) seen.push((await t.api.getMovie({ id })).movie!.revision);
      expect(acknowledged).toBe(false);
      hold = false;
      for (const release of held) release();
      held = [];
      const { movie: written } = await write;

      expect(seen).toEqual([0, 0, 0, 0]);
      expect(written?.revision).toBe(1);
      for (const t of [a, b]) expect((await t.api.getMovie({ id })).movie?.revision).toBe(1);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('the registry of live instances lost (evicted, deleted) just before a write: the writer still waits for the instance it hears pinging', async () => {
    const movie = movieFactory({ title: 'Lost Registry', rating: 5 });
    const id = movie._id.toHexString();
    let hold = false;
    let released = false;
    const held: Array<() => void> = [];
    // Pings every second: the registry stays empty between one and the write.
    const env = { NEAR_CACHE_LEASE_MS: '5000' };
    const a = await startTestApp({ env, movies: [movie] });
    const b = await startTestApp({
      env,
      config: { mongoUri: a.config.mongoUri },
      keepRedis: true,
      hooks: {
        beforeFill: () => Promise.resolve(),
        beforeDelivery: (message) =>
          hold && message.startsWith('invalidate ')
            ? new Promise((resolve) => held.push(() => resolve(true)))
            : Promise.resolve(true),
      },
    });
    try {
      for (const t of [a, b]) await until(async () => t.app.get(NearCache).serving);
      await nearCached(b, id);
      hold = true;
      const registered = async () =>
        Number(await a.redis.zscore(NEAR_CACHE_INSTANCES_KEY, b.app.get(CacheInstance).id));
      const before = await registered();
      await until(async () => (await registered()) > before); // b just renewed its registration
      await a.redis.del(NEAR_CACHE_INSTANCES_KEY);

      const write = a.api.updateRating({ id, rating: 9 }).then(() => released);
      await until(async () => held.length === 1);
      await sleep(300);
      released = true;
      for (const release of held) release();

      expect(await write).toBe(true); // acknowledged only once b had applied the invalidation
      expect((await b.api.getMovie({ id })).movie?.rating).toBe(9);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a writer without a near-cache still makes the others drop theirs before it answers', async () => {
    const movie = movieFactory({ title: 'Mixed Fleet', rating: 5 });
    const id = movie._id.toHexString();
    const a = await startTestApp({
      env: { NEAR_CACHE_LEASE_MS: String(LEASE_MS) },
      movies: [movie],
    });
    const b = await startTestApp({
      env: { NEAR_CACHE: 'off' },
      config: { mongoUri: a.config.mongoUri },
      keepRedis: true,
    });
    try {
      await until(async () => a.app.get(NearCache).serving);
      await nearCached(a, id);

      await b.api.updateRating({ id, rating: 9 });

      expect((await a.api.getMovie({ id })).movie?.rating).toBe(9);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a write waits until the other instance has applied a slow invalidation', async () => {
    const movie = movieFactory({ title: 'Slow Mail', rating: 5 });
    const id = movie._id.toHexString();
    const { a, b } = await twoInstances([movie], {
      beforeFill: () => Promise.resolve(),
      beforeDelivery: () => sleep(300).then(() => true),
    });
    try {
      await nearCached(b, id);

      const started = performance.now();
      await a.api.updateRating({ id, rating: 9 });
      const writeMs = performance.now() - started;

      expect((await b.api.getMovie({ id })).movie?.rating).toBe(9);
      expect(writeMs).toBeGreaterThanOrEqual(300);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('an instance that hears nothing stops serving its near-cache within the lease; the writer waits it out', async () => {
    const movie = movieFactory({ title: 'Deaf Instance', rating: 5 });
    const id = movie._id.toHexString();
    let deaf = false;
    const { a, b } = await twoInstances([movie], {
      beforeFill: () => Promise.resolve(),
      beforeDelivery: () => Promise.resolve(!deaf),
    });
    try {
      await nearCached(b, id);
      deaf = true;

      const started = performance.now();
      await a.api.updateRating({ id, rating: 8 });
      const writeMs = performance.now() - started;
      const read = await b.api.getMovie({ id });

      // b heard nothing, its pings included: the writer waited out b's lease, and b stopped
      // serving from memory, so it read the new copy from Redis.
      expect(read.movie?.rating).toBe(8);
      expect(read.cacheTier).toBe(CacheTier.CACHE_TIER_REDIS);
      expect(writeMs).toBeGreaterThanOrEqual(LEASE_MS - 50);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('an instance whose subscription is killed stops serving at once and recovers', async () => {
    const movie = movieFactory({ title: 'Cut Wire', rating: 5 });
    const id = movie._id.toHexString();
    const { a, b } = await twoInstances([movie]);
    try {
      await nearCached(b, id);
      const name = `movie-cache-invalidations-${b.app.get(CacheInstance).id}`;

      const killed = await a.redis.call('CLIENT', 'KILL', 'NAME', name).catch(async () => {
        const list = String(await a.redis.call('CLIENT', 'LIST'));
        const line = list.split('\n').find((l) => l.includes(`name=${name}`))!;
        return a.redis.call('CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(line)![1]);
      });
      expect(killed).toBeTruthy();
      await until(
        async () => !b.app.get(NearCache).stats().serving || !(await servedLocally(b, id)),
        2_000,
      );
      await a.api.updateRating({ id, rating: 7 });

      expect((await b.api.getMovie({ id })).movie?.rating).toBe(7);
      await until(async () => servedLocally(b, id), 5_000);
      expect((await b.api.getMovie({ id })).movie?.rating).toBe(7);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
