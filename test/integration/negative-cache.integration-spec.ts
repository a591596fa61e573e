import { WriteFence } from '../../src/movies/cache/write-fence';
import { NegativeCache } from '../../src/movies/cache/negative-cache';
import { absentKey, fenceKey, titleTag } from '../../src/redis/cache-keys';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';

describe(NegativeCache.name, () => {
  let env: CacheTestingModule;
  let sut: NegativeCache;
  /** The fence a miss of this tag sees before it reads MongoDB. */
  let fenceOf: (tag: string) => Promise<string>;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.module.get(NegativeCache);
    const leases = env.module.get(WriteFence);
    fenceOf = (tag) => leases.current(tag);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const tag = titleTag('Unmade Film');

  it('remembers an absence for NEGATIVE_TTL_SECONDS while the fence is the one the miss saw, for that year only', async () => {
    const fence = await fenceOf(tag);

    expect(await sut.remember(tag, 1999, fence)).toBe(true);

    expect(await env.redis.ttl(absentKey(tag, 1999))).toBe(env.config.negativeTtlSeconds);
    expect(await sut.isAbsent(tag, 1999)).toBe(true);
    expect(await sut.isAbsent(tag, 2000)).toBe(false);
    expect(await sut.isAbsent(tag)).toBe(false);
  });

  it('remembers nothing, and says so, once a write moved the fence', async () => {
    const fence = await fenceOf(tag);
    await env.module.get(WriteFence).raiseTitle('Unmade Film', 1999);

    expect(await sut.remember(tag, undefined, fence)).toBe(false);
    expect(await sut.isAbsent(tag)).toBe(false);
  });

  it('remembers nothing, and says so, once the fence was lost', async () => {
    const fence = await fenceOf(tag);
    await env.redis.del(fenceKey(tag));

    expect(await sut.remember(tag, undefined, fence)).toBe(false);
    expect(await sut.isAbsent(tag)).toBe(false);
  });
});

describe(`${NegativeCache.name} with NEGATIVE_TTL_SECONDS=0`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await cacheTestingModule([], { env: { NEGATIVE_TTL_SECONDS: '0' } });
  });
  afterAll(() => env.module.close());

  it('remembers no absence, and says so', async () => {
    const tag = titleTag('Unmade Film');
    const fence = await env.module.get(WriteFence).current(tag);

    await expect(env.module.get(NegativeCache).remember(tag, undefined, fence)).resolves.toBe(
      false,
    );
    expect(await env.redis.exists(absentKey(tag))).toBe(0);
  });
});
