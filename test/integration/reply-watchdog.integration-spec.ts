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

  it('fails a command whose reply is late, within 1.25 × REDIS_TIMEOUT_MS, and every one sent after it', async () => {
    relay.freeze();
    const sent = performance.now();

    const first = sut.get('watchdog:a').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
    const second = sut.get('watchdog:b').catch((error: Error) => error);
    const [a, b] = await Promise.all([first, second]);
    const failedAfter = performance.now() - sent;

    expect(a).toEqual(new Error('Command timed out'));
    expect(b).toEqual(new Error('Command timed out'));
    expect(failedAfter).toBeGreaterThanOrEqual(TIMEOUT_MS * 1.5);
    expect(failedAfter).toBeLessThan(TIMEOUT_MS * 1.5 + TIMEOUT_MS * 1.25);
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
