import { WriteFence } from '../../src/movies/cache/write-fence';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { DirtyIds } from '../../src/movies/cache/dirty-ids';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

describe(DirtyIds.name, () => {
  let redis: ChildService;
  let env: CacheTestingModule;
  let sut: DirtyIds;
  const fenceOf = (id: string) => env.module.get(WriteFence).current(id);

  beforeAll(async () => {
    // A server of its own, to be frozen.
    redis = await startRedisServer(tempDir('movie-cache-ledger-'));
    env = await cacheTestingModule([], {
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_BREAKER_COOLDOWN_MS: '100' },
    });
    sut = env.module.get(DirtyIds);
  });
  afterAll(async () => {
    await env.module.close();
    await redis.stop();
  });

  it('repairs a dirty id: the copy goes, and every fill begun before the repair is refused, even of the newest revision', async () => {
    const old = apiMovieFactory({ revision: 1, rating: 2 });
    await env.store.fill(old, await fenceOf(old.id));
    const begunBefore = await fenceOf(old.id);

    sut.mark(old.id);
    expect(sut.has(old.id)).toBe(true);
    expect(await sut.repairAll()).toBe(1);

    expect(sut.has(old.id)).toBe(false);
    expect(await env.redis.exists(movieKey(old.id))).toBe(0);
    expect(await env.store.fill(old, begunBefore)).toEqual({ kind: 'unfenced' });
    expect(await env.store.fill({ ...old, revision: 2 }, begunBefore)).toEqual({
      kind: 'unfenced',
    });
    expect(await env.redis.get(fenceKey(old.id))).toMatch(/:0$/);
    const begunAfter = await fenceOf(old.id);
    expect(await env.store.fill({ ...old, revision: 2 }, begunAfter)).toMatchObject({
      kind: 'stored',
    });
  });

  it('keeps the mark while Redis does not answer, and repairs on its own once it does', async () => {
    const movie = apiMovieFactory({ revision: 3 });
    await env.store.fill(movie, await fenceOf(movie.id));
    redis.signal('SIGSTOP');
    try {
      sut.mark(movie.id);
      expect(await sut.repairAll()).toBe(0);
      expect(sut.has(movie.id)).toBe(true);
    } finally {
      redis.signal('SIGCONT');
    }

    await until(async () => !sut.has(movie.id), 5_000);
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
  });

  it('drops the id from the near-cache when marked and again when repaired: a copy read before either is not kept', async () => {
    const near = env.module.get(NearCache);
    const movie = apiMovieFactory();
    const beforeMark = near.invalidationCount();

    sut.mark(movie.id);
    const beforeRepair = near.invalidationCount();
    await sut.repairAll();

    expect(beforeRepair).toBeGreaterThan(beforeMark);
    expect(near.invalidationCount()).toBeGreaterThan(beforeRepair);
  });
});
