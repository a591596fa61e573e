import { NegativeCache } from '../../src/movies/cache/negative-cache';
import { WriteFence } from '../../src/movies/cache/write-fence';
import { CachePolicy } from '../../src/movies/cache/cache-policy';
import { fenceKey, leaseKey, titleTag } from '../../src/redis/cache-keys';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';

describe(WriteFence.name, () => {
  let env: CacheTestingModule;
  let sut: WriteFence;
  let negative: NegativeCache;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = env.module.get(WriteFence);
    negative = env.module.get(NegativeCache);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  const tag = titleTag('Unmade Film');
  const fenceSeconds = () => env.module.get(CachePolicy).fenceSeconds;

  describe('begin', () => {
    it('creates a lost fence at revision 0 and takes the lease; a second miss gets the same fence and no lease', async () => {
      const first = await sut.begin('m1');
      const second = await sut.begin('m1');

      // Made while missing: the fence says when (Redis time), so early copies are unsettled.
      expect(first.fence).toMatch(/^[\w-]+@\d+:0$/);
      expect(first.made).toBe(true);
      expect(second).toEqual({
        lease: null,
        fence: first.fence,
        pending: false,
        made: false,
        absent: false,
      });
      expect(await env.redis.get(leaseKey('m1'))).toBe(first.lease);
      expect(await env.redis.ttl(fenceKey('m1'))).toBe(fenceSeconds());
    });

    it('ending a miss releases only the lease it holds', async () => {
      const ticket = await sut.begin('m1');
      await sut.end({ ...ticket, lease: 'not-mine' }, 'm1');
      expect(await env.redis.exists(leaseKey('m1'))).toBe(1);

      await sut.end(ticket, 'm1');
      expect(await env.redis.exists(leaseKey('m1'))).toBe(0);
    });
  });

  describe('regenerate', () => {
    it('keeps the revision under a new generation', async () => {
      await env.redis.set(fenceKey('m1'), 'old:7');

      await sut.repair('m1');

      const fence = (await env.redis.get(fenceKey('m1'))) ?? '';
      expect(fence).toMatch(/:7$/);
      expect(fence).not.toMatch(/^old:/);
    });
  });

  describe('raiseTitle', () => {
    it("forgets the title's absences with and without its year, not another year's", async () => {
      for (const year of [undefined, 1999, 2005])
        await negative.remember(tag, year, await sut.current(tag));

      await sut.raiseTitle('Unmade Film', 1999);

      expect(await negative.isAbsent(tag)).toBe(false);
      expect(await negative.isAbsent(tag, 1999)).toBe(false);
      expect(await negative.isAbsent(tag, 2005)).toBe(true);
    });

    it('counts one more write on the fence, under the same generation', async () => {
      const [generation, writes] = (await sut.current(tag)).split(':');

      await sut.raiseTitle('Unmade Film', 1999);
      await sut.raiseTitle('Unmade Film', 1999);

      expect(await env.redis.get(fenceKey(tag))).toBe(`${generation}:${Number(writes) + 2}`);
    });

    it('gives a title with no fence one, expiring like every fence', async () => {
      await sut.raiseTitle('Unmade Film', 1999);

      expect(await env.redis.get(fenceKey(tag))).toMatch(/^[\w-]+:1$/);
      expect(await env.redis.ttl(fenceKey(tag))).toBe(fenceSeconds());
    });
  });
});
