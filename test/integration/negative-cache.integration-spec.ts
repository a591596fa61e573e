import { MetricsService } from '../../src/metrics/metrics.service';
import { LogicalClock } from '../../src/movies/cache/read-outcome';
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

  it('after a miss, is fresh as of its sending once stored, and as of the read when a write moved the fence', async () => {
    const clock = env.module.get(LogicalClock);
    const fence = await fenceOf(tag);
    const readAt = clock.tick();

    const stored = await sut.afterMiss(tag, undefined, fence, readAt);
    await env.module.get(WriteFence).raiseTitle('Unmade Film', 1999);
    const refused = await sut.afterMiss(tag, undefined, fence, readAt);

    expect(stored).toEqual({ kind: 'absent', freshAt: expect.any(Number) });
    expect(stored.freshAt).toBeGreaterThan(readAt);
    expect(refused).toEqual({ kind: 'absent', freshAt: readAt });
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

describe(`${NegativeCache.name} without Redis`, () => {
  let env: CacheTestingModule;

  beforeAll(async () => {
    env = await cacheTestingModule([], { redisUnreachable: true });
  });
  afterAll(() => env.module.close());

  it('answers a miss as absent, fresh as of its read, and counts a failed lookup under operation "cache"', async () => {
    const sut = env.module.get(NegativeCache);
    const readAt = env.module.get(LogicalClock).tick();
    const tag = titleTag('Unmade Film');

    await expect(sut.afterMiss(tag, 1999, 'g:0', readAt)).resolves.toEqual({
      kind: 'absent',
      freshAt: readAt,
    });
    const errors = async () => {
      const { values } = await env.module.get(MetricsService).redisErrors.get();
      return values.find((v) => v.labels.operation === 'cache')?.value ?? 0;
    };
    const before = await errors();
    await expect(sut.isAbsent(tag, 1999)).rejects.toThrow('Redis');

    expect((await errors()) - before).toBe(1);
  });
});
