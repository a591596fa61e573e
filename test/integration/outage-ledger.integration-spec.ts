import { WriteFence } from '../../src/movies/cache/write-fence';
import { NearCache } from '../../src/movies/cache/near-cache';
import { OutageLedger } from '../../src/movies/cache/outage-ledger';
import { fenceKey, movieKey } from '../../src/redis/cache-keys';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { apiMovieFactory } from '../factories/api-movie.factory';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

describe(OutageLedger.name, () => {
  let redis: ChildService;
  let env: CacheTestingModule;
  let sut: OutageLedger;
  const fenceOf = (id: string) => env.module.get(WriteFence).current(id);

  beforeAll(async () => {
    // A server of its own, to be frozen.
    redis = await startRedisServer(tempDir('movie-cache-ledger-'));
    env = await cacheTestingModule([], {
      env: { REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_BREAKER_COOLDOWN_MS: '100' },
    });
    sut = env.module.get(OutageLedger);
  });
  afterAll(async () => {
    await env.module.close();
    await redis.stop();
  });

  it('repairs a dirty id: the copy goes, and every fill begun before the repair is refused, even of the newest revision', async () => {
    const old = apiMovieFactory({ revision: 1, rating: 2 });
    await env.store.fill(old, await fenceOf(old.id));
    const begunBefore = await fenceOf(old.id);

    sut.markDirty(old.id);
    expect(sut.isDirty(old.id)).toBe(true);
    expect(await sut.evictDirty()).toBe(1);

    expect(sut.isDirty(old.id)).toBe(false);
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
      sut.markDirty(movie.id);
      expect(await sut.evictDirty()).toBe(0);
      expect(sut.isDirty(movie.id)).toBe(true);
    } finally {
      redis.signal('SIGCONT');
    }

    await until(async () => !sut.isDirty(movie.id), 5_000);
    expect(await env.redis.exists(movieKey(movie.id))).toBe(0);
  });

  it('drops the id from the near-cache when marked and again when repaired: a copy read before either is not kept', async () => {
    const near = env.module.get(NearCache);
    const movie = apiMovieFactory();
    const beforeMark = near.token();

    sut.markDirty(movie.id);
    const beforeRepair = near.token();
    await sut.evictDirty();

    expect(beforeRepair).toBeGreaterThan(beforeMark);
    expect(near.token()).toBeGreaterThan(beforeRepair);
  });

  it('confirms installs at once on one Redis server (no replica to wait for)', async () => {
    const movie = apiMovieFactory();
    await env.store.install(movie);

    await sut.confirmInstalled(movie.id);

    expect(sut.isDirty(movie.id)).toBe(false);
  });
});
