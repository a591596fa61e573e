import type Redis from 'ioredis';
import {
  createRedisClient,
  duplicateOptions,
  waitForRedis,
} from '../../src/redis/redis-connection';
import { testConfig } from '../support/test-env';
import { tcpRelay, type TcpRelay } from '../support/tcp-relay';

const TIMEOUT_MS = 200;

/** The one Redis connection of a server (REDIS_URL): its commands bounded without a timer each. */
describe('watchReplies', () => {
  let relay: TcpRelay;
  let sut: Redis;

  beforeEach(async () => {
    const url = new URL(testConfig().redisUrl);
    relay = await tcpRelay({ host: url.hostname, port: Number(url.port) });
    await relay.open();
    url.port = String(relay.port);
    sut = createRedisClient(
      testConfig({ REDIS_URL: url.toString(), REDIS_TIMEOUT_MS: String(TIMEOUT_MS) }),
    ) as Redis;
    await waitForRedis(sut, 5_000);
  });

  afterEach(async () => {
    sut.disconnect();
    await relay.close();
  });

  it('answers commands whose replies come in time, however many are in flight', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, () => sut.ping()));

    expect(new Set(replies)).toEqual(new Set(['PONG']));
  });

  // How late at most (1.25 × REDIS_TIMEOUT_MS on a running event loop) is reply-watchdog.spec's,
  // on a fake clock: here timers may run late under load.
  it('fails each command whose reply is late, no sooner than REDIS_TIMEOUT_MS after it was sent', async () => {
    relay.freeze();
    const failedAfter = (key: string) => {
      const sent = performance.now();
      return sut.get(key).then(
        () => 'answered',
        (error: Error) => ({ error, ms: performance.now() - sent }),
      );
    };

    const first = failedAfter('watchdog:a');
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
    const second = failedAfter('watchdog:b');
    const [a, b] = await Promise.all([first, second]);

    for (const failed of [a, b]) {
      expect(failed).toEqual({ error: new Error('Command timed out'), ms: expect.any(Number) });
      expect((failed as { ms: number }).ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
    }
  });

  it('keeps a command whose reply is slow but within REDIS_TIMEOUT_MS', async () => {
    await sut.set('watchdog:slow', 'kept');
    relay.freeze();

    const reply = sut.get('watchdog:slow');
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 0.6));
    await relay.open();

    await expect(reply).resolves.toBe('kept');
  });

  it("gives a connection of its own beside the client (a subscriber, a replica's WAIT) a timer per command", async () => {
    const own = sut.duplicate({ ...duplicateOptions(sut), lazyConnect: true });

    expect(own.options.commandTimeout).toBe(TIMEOUT_MS);
    expect(sut.options.commandTimeout).toBeUndefined();
    own.disconnect();
  });
});
