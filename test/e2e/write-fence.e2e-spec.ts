import { status } from '@grpc/grpc-js';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import { movieFactory } from '../factories/movie.factory';
import { fillCounts, mongoQueryCount } from '../support/app-metrics';
import { fillGate } from '../support/fill-gate';
import { startTestApp } from '../support/test-app';
import { sleep } from '../support/wait';
import { readCopy } from '../support/cached-copy';

describe('write fence: a fill that read before an acknowledged write never lands', () => {
  it('after the copy expired: the fill is refused and the miss reads MongoDB again', async () => {
    const movie = movieFactory({ title: 'Expired Mid-Fill', rating: 5 });
    const id = movie._id.toHexString();
    const gate = fillGate(id);
    const t = await startTestApp({ movies: [movie], hooks: gate.hook });
    try {
      const reader = t.api.getMovie({ id });
      expect(await gate.reached()).toBe(0);
      const written = await t.api.updateRating({ id, rating: 9 });
      await t.redis.del(movieKey(id)); // the copy the write installed expires or is evicted
      gate.release();
      expect(await gate.reached()).toBe(1); // the miss read again after its fill was refused
      gate.release();

      expect(written.movie?.revision).toBe(1);
      expect((await reader).movie).toMatchObject({ revision: 1, rating: 9 });
      expect(await t.api.getMovie({ id })).toMatchObject({
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        movie: { revision: 1, rating: 9 },
      });
      // The write gave the fence a new generation: the fill begun before it is refused.
      expect(await fillCounts(t.app)).toMatchObject({ unfenced: 1, stored: 1 });
    } finally {
      await t.close();
    }
  });

  it('after the fence itself was evicted too: the fill is refused as unfenced', async () => {
    const movie = movieFactory({ title: 'Fence Evicted', rating: 5 });
    const id = movie._id.toHexString();
    const gate = fillGate(id);
    const t = await startTestApp({ movies: [movie], hooks: gate.hook });
    try {
      const reader = t.api.getMovie({ id });
      await gate.reached();
      await t.api.updateRating({ id, rating: 8 });
      await t.redis.del(movieKey(id), fenceKey(id));
      gate.release();
      expect(await gate.reached()).toBe(1);
      gate.release();

      expect((await reader).movie?.revision).toBe(1);
      expect((await readCopy(t.redis, id))?.revision).toBe(1);
      expect(await fillCounts(t.app)).toMatchObject({ unfenced: 1, stored: 1 });
    } finally {
      await t.close();
    }
  });

  it('a request that joins a miss after a write was acknowledged never takes its older answer', async () => {
    const movie = movieFactory({ title: 'Late Joiner', rating: 5 });
    const id = movie._id.toHexString();
    const gate = fillGate(id);
    const t = await startTestApp({ movies: [movie], hooks: gate.hook });
    try {
      // The leader reads three times, each read overtaken by a write: its last answer
      // (revision 2) is fresh for it, but older than the write the joiner saw acknowledged.
      const leader = t.api.getMovie({ id });
      for (let revision = 0; revision < 3; revision += 1) {
        expect(await gate.reached()).toBe(revision);
        await t.api.updateRating({ id, rating: 6 + revision });
        await t.redis.del(movieKey(id));
        if (revision < 2) gate.release();
      }
      const joiner = t.api.getMovie({ id }); // arrives after revision 3 was acknowledged
      await sleep(50);
      gate.release();
      // The joiner reads for itself (held like every fill), unless it took the leader's answer.
      const ownRead = await Promise.race([gate.reached(), joiner.then(() => 'took the answer')]);
      expect(ownRead).toBe(3);
      gate.release();

      expect((await leader).movie?.revision).toBe(2);
      expect((await joiner).movie?.revision).toBe(3);
    } finally {
      await t.close();
    }
  });

  it('across instances: a reader waiting on another instance’s lease sees the acknowledged write', async () => {
    const movie = movieFactory({ title: 'Two Instances', rating: 5 });
    const id = movie._id.toHexString();
    const gate = fillGate(id);
    const a = await startTestApp({ movies: [movie], hooks: gate.hook });
    const b = await startTestApp({ config: { mongoUri: a.config.mongoUri }, keepRedis: true });
    try {
      const leader = a.api.getMovie({ id }); // holds the lease, its fill held after reading 0
      await gate.reached();
      await b.api.updateRating({ id, rating: 7 });
      await b.redis.del(movieKey(id));
      const waiter = b.api.getMovie({ id }); // waits on a's lease
      await sleep(100);
      gate.release();
      expect(await gate.reached()).toBe(1);
      gate.release();

      expect((await waiter).movie?.revision).toBe(1);
      expect((await leader).movie?.revision).toBe(1);
      // The waiter took the leader's fill from Redis: it did not read MongoDB itself.
      expect(await mongoQueryCount(b.app, 'findById')).toBe(0);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('title lookups: the id behind a title is read under the same fence', async () => {
    const movie = movieFactory({ title: 'Fenced Title', rating: 5 });
    const id = movie._id.toHexString();
    const gate = fillGate(id);
    const t = await startTestApp({ movies: [movie], hooks: gate.hook });
    try {
      const reader = t.api.getMovie({ title: 'Fenced Title' });
      expect(await gate.reached()).toBe(0);
      await t.api.updateRating({ title: 'Fenced Title', rating: 9.5 });
      await t.redis.del(movieKey(id));
      gate.release();
      await gate.reached();
      gate.release();

      expect((await reader).movie).toMatchObject({ revision: 1, rating: 9.5 });
      expect((await t.api.getMovie({ title: 'Fenced Title' })).movie?.revision).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('a title remembered as absent is found once a movie with that title is written', async () => {
    const t = await startTestApp();
    try {
      const movie = movieFactory({ title: 'Arrives Later', year: 2001 });
      for (const lookup of [{ title: 'Arrives Later' }, { title: 'Arrives Later', year: 2001 }]) {
        await expect(t.api.getMovie(lookup)).rejects.toMatchObject({ code: status.NOT_FOUND });
      }
      await t.movies.insertOne(movie);

      await t.api.updateRating({ id: movie._id.toHexString(), rating: 6 });

      expect((await t.api.getMovie({ title: 'Arrives Later' })).movie?.rating).toBe(6);
      expect((await t.api.getMovie({ title: 'Arrives Later', year: 2001 })).movie?.rating).toBe(6);
    } finally {
      await t.close();
    }
  });
});
