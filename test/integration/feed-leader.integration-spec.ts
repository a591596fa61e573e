import { FeedLeader } from '../../src/movies/change-feed/feed-leader';
import { RedisCircuit } from '../../src/redis/redis-circuit';
import { REDIS_SCRIPTS } from '../../src/redis/redis-scripts';
import { FEED_LEADER_KEY, FEED_TOKEN_KEY } from '../../src/redis/cache-keys';
import { cacheTestingModule, type CacheTestingModule } from '../support/cache-testing-module';
import { sleep } from '../support/wait';

const LEASE_MS = 200;

describe(FeedLeader.name, () => {
  let env: CacheTestingModule;
  let a: FeedLeader;
  let b: FeedLeader;

  beforeAll(async () => {
    env = await cacheTestingModule([FeedLeader], {
      env: { CHANGE_FEED_LEASE_MS: String(LEASE_MS) },
    });
    // Two instances of the fleet: each its own id, one Redis.
    a = env.module.get(FeedLeader);
    b = new FeedLeader(env.module.get(RedisCircuit), env.module.get(REDIS_SCRIPTS), env.config);
  });
  afterAll(() => env.module.close());
  beforeEach(() => env.redis.flushdb());

  it('one instance leads; the other takes over once the lease runs out unrenewed', async () => {
    expect(await a.lead()).toBe(true);
    expect(await b.lead()).toBe(false);
    expect(await a.lead()).toBe(true); // renewed

    await sleep(LEASE_MS + 50);

    expect(await b.lead()).toBe(true);
    expect(await a.lead()).toBe(false);
  });

  it('a leader that lost its lease cannot move the token back under the new one', async () => {
    await a.lead();
    expect(await a.save('t1')).toBe(true);
    await sleep(LEASE_MS + 50);
    await b.lead();
    await b.save('t2');

    expect(await a.save('t1-late')).toBe(false);
    expect(await b.token()).toBe('t2');
  });

  it('resigning hands over at once, and only the holder can resign', async () => {
    await a.lead();
    await b.resign();
    expect(await env.redis.get(FEED_LEADER_KEY)).toBe(a.instance);

    await a.resign();

    expect(await b.lead()).toBe(true);
    expect(await env.redis.exists(FEED_TOKEN_KEY)).toBe(0);
  });
});
