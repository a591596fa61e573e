import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DependencyUnavailableError } from '../../src/common/errors';
import { MetricsService } from '../../src/metrics/metrics.service';
import { BatchedGets } from '../../src/redis/batched-gets';
import { RedisCircuit } from '../../src/redis/redis-circuit';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { sleep, until } from '../support/wait';

const text = (value: Buffer | null) => value?.toString() ?? null;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe(BatchedGets.name, () => {
  let env: CacheTestingModule;
  let sut: BatchedGets;
  let monitor: Redis;
  /** The reads Redis received of this test's keys, in order. */
  let sent: string[][];
  let prefix: string;
  const key = (name: string) => `${prefix}${name}`;

  beforeAll(async () => {
    env = await cacheTestingModule();
    sut = new BatchedGets(env.module.get(RedisCircuit), 'cache');
    monitor = await env.redis.duplicate().monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0].toLowerCase();
      if (/^m?get$/.test(command) && args.some((arg) => arg.startsWith(prefix)))
        sent.push([command, ...args.slice(1)]);
    });
  });
  afterAll(async () => {
    monitor.disconnect();
    await env.module.close();
  });
  beforeEach(() => {
    sent = [];
    prefix = `batched-gets:${randomUUID()}:`;
  });

  /** The commands seen once `count` have arrived (and a moment more, for any extra). */
  const commands = async (count: number) => {
    await until(() => Promise.resolve(sent.length >= count), 2_000);
    await sleep(50);
    return sent;
  };

  it('sends the reads asked for in one turn as one MGET, each key once, and answers each caller', async () => {
    await env.redis.set(key('a'), 'first');
    await env.redis.set(key('c'), 'third');

    const answers = await Promise.all(['a', 'b', 'a', 'c'].map((name) => sut.get(key(name), text)));

    expect(answers).toEqual(['first', null, 'first', 'third']);
    expect(await commands(1)).toEqual([['mget', key('a'), key('b'), key('c')]]);
  });

  it('sends a key read alone as a GET; a read asked once its turn was sent gets a command of its own', async () => {
    await env.redis.set(key('a'), 'before');
    const first = sut.get(key('a'), text);
    await nextTurn();
    await env.redis.set(key('a'), 'after');
    const second = sut.get(key('a'), text);

    expect(await first).toBe('before');
    expect(await second).toBe('after');
    expect(await commands(2)).toEqual([
      ['get', key('a')],
      ['get', key('a')],
    ]);
  });

  it("reads a key's value once for the callers sharing a reply; a reply that throws fails its caller only, not Redis", async () => {
    await env.redis.set(key('a'), 'value');
    let reads = 0;
    const shared = (value: Buffer | null) => ({ read: ++reads, value: text(value) });
    const broken = (): never => {
      throw new RangeError('not a copy');
    };

    const [one, two, failed, other] = await Promise.allSettled([
      sut.get(key('a'), shared),
      sut.get(key('a'), shared),
      sut.get(key('a'), broken),
      sut.get(key('a'), text),
    ]);

    expect(one).toEqual({ status: 'fulfilled', value: { read: 1, value: 'value' } });
    expect(
      two.status === 'fulfilled' && one.status === 'fulfilled' && two.value === one.value,
    ).toBe(true);
    expect(failed).toMatchObject({ status: 'rejected', reason: expect.any(RangeError) });
    expect(other).toEqual({ status: 'fulfilled', value: 'value' });
    expect(env.module.get(RedisCircuit).state).toBe('closed');
    expect((await env.module.get(MetricsService).redisErrors.get()).values).toEqual([]);
  });

  it('fails every caller of the turn with Redis unavailable when Redis does not answer', async () => {
    const down = await cacheTestingModule([], { redisUnreachable: true });
    try {
      const gets = new BatchedGets(down.module.get(RedisCircuit), 'cache');
      const answers = await Promise.allSettled([gets.get('a', text), gets.get('b', text)]);
      for (const answer of answers)
        expect(answer).toMatchObject({
          status: 'rejected',
          reason: expect.any(DependencyUnavailableError),
        });
    } finally {
      await down.module.close();
    }
  });
});
