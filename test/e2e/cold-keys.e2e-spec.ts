import { leaseKey } from '../../src/redis/cache-keys';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import { movieFactory } from '../factories/movie.factory';
import { mongoQueryCount, serverCommandCount } from '../support/app-metrics';
import { privateMongo } from '../support/private-mongo';
import { startTestApp, type TestApp } from '../support/test-app';

/** Calls of a Redis command since the last RESETSTAT, scripts' own calls included. */
async function commandCalls(t: TestApp, command: string): Promise<number> {
  const info = await t.redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('cold keys', () => {
  const movies = [
    movieFactory({ title: 'One Flight' }),
    movieFactory({ title: 'Crowded Title' }),
    movieFactory({ title: 'Abandoned Lease' }),
  ];
  let t: TestApp;
  let mongo: Awaited<ReturnType<typeof privateMongo>>;

  beforeAll(async () => {
    // A MongoDB of its own: the server's command counts see only this spec's queries.
    mongo = await privateMongo();
    // Without the near-cache, whose registration scripts would add to the command counts.
    t = await startTestApp({
      movies,
      env: { NEAR_CACHE: 'off', FILL_LEASE_MS: '500' },
      config: { mongoUri: mongo.mongoUri },
    });
  });
  afterAll(async () => {
    await t.close();
    await mongo.stop();
  });

  it('200 concurrent misses in one process take one lease: the others join in process', async () => {
    const id = movies[0]._id.toHexString();
    await t.redis.config('RESETSTAT');

    const responses = await Promise.all(Array.from({ length: 200 }, () => t.api.getMovie({ id })));

    expect(responses.every((r) => r.movie?.id === id)).toBe(true);
    // One SET NX for the lease and one creating the fence; each caller leasing would be 200.
    expect(await commandCalls(t, 'set')).toBeLessThanOrEqual(5);
  });

  it('200 concurrent lookups of a cold title make one title query and one id query', async () => {
    const before = {
      title: await mongoQueryCount(t.app, 'findByTitle'),
      id: await mongoQueryCount(t.app, 'findById'),
      server: await serverCommandCount(t.app, 'find'),
    };

    const responses = await Promise.all(
      Array.from({ length: 200 }, () => t.api.getMovie({ title: 'Crowded Title' })),
    );

    expect(responses.every((r) => r.movie?.id === movies[1]._id.toHexString())).toBe(true);
    expect((await mongoQueryCount(t.app, 'findByTitle')) - before.title).toBe(1);
    expect((await mongoQueryCount(t.app, 'findById')) - before.id).toBe(1);
    expect((await serverCommandCount(t.app, 'find')) - before.server).toBe(2);
  });

  it('a lease left by an instance that died is waited out, then the reader fills it itself', async () => {
    const id = movies[2]._id.toHexString();
    await t.redis.set(leaseKey(id), 'held-by-a-dead-instance', 'PX', 60_000);
    const before = await mongoQueryCount(t.app, 'findById');

    const response = await t.api.getMovie({ id });

    expect(response).toMatchObject({
      cacheStatus: CacheStatus.CACHE_STATUS_MISS,
      movie: { title: 'Abandoned Lease' },
    });
    expect((await mongoQueryCount(t.app, 'findById')) - before).toBe(1);
    expect((await t.api.getMovie({ id })).cacheStatus).toBe(CacheStatus.CACHE_STATUS_HIT);
  });
});
