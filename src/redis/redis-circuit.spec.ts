import { DependencyUnavailableError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { RedisCircuit } from './redis-circuit';
import type { RedisClient } from './redis-connection';

const THRESHOLD = 3;
const COOLDOWN_MS = 50;
const config = {
  redisBreakerThreshold: THRESHOLD,
  redisBreakerCooldownMs: COOLDOWN_MS,
  redisTimeoutMs: 500,
} as AppConfig;

/** A command that answers or fails, and counts how often it was sent. */
function command() {
  let pending: Array<{ resolve(): void; reject(error: Error): void }> = [];
  const sent = jest.fn(
    () =>
      new Promise<string>((resolve, reject) =>
        pending.push({ resolve: () => resolve('OK'), reject }),
      ),
  );
  const settle = (ok: boolean) => {
    const calls = pending;
    pending = [];
    for (const call of calls) {
      if (ok) call.resolve();
      else call.reject(new Error('connection lost'));
    }
  };
  return { sent, answer: () => settle(true), fail: () => settle(false) };
}

const settled = (reply: Promise<unknown>) =>
  reply.then(
    () => 'ok',
    (error: unknown) => error,
  );
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe(RedisCircuit.name, () => {
  let metrics: MetricsService;
  let sut: RedisCircuit;

  beforeEach(() => {
    metrics = new MetricsService();
    sut = new RedisCircuit({} as RedisClient, config, metrics);
  });

  async function failTimes(times: number) {
    for (let i = 0; i < times; i += 1) {
      const redis = command();
      const reply = settled(sut.run('cache', redis.sent));
      redis.fail();
      expect(await reply).toBeInstanceOf(DependencyUnavailableError);
    }
    await flush();
  }

  it(`opens after ${THRESHOLD} failures in a row: the next call fails at once, unsent`, async () => {
    await failTimes(THRESHOLD);
    const redis = command();

    const reply = await settled(sut.run('cache', redis.sent));

    expect(sut.state).toBe('open');
    expect(reply).toBeInstanceOf(DependencyUnavailableError);
    expect(redis.sent).not.toHaveBeenCalled();
    expect((await metrics.redisErrors.get()).values[0]?.value).toBe(THRESHOLD);
  });

  it('stays closed when a success comes between failures', async () => {
    await failTimes(THRESHOLD - 1);
    const redis = command();
    const ok = settled(sut.run('cache', redis.sent));
    redis.answer();
    expect(await ok).toBe('ok');
    await flush();

    await failTimes(THRESHOLD - 1);

    expect(sut.state).toBe('closed');
  });

  it('counts a success that was in flight when a failure came, as the breaker saw it end', async () => {
    const slow = command();
    const inFlight = settled(sut.run('cache', slow.sent));
    await failTimes(THRESHOLD - 1);
    slow.answer();
    expect(await inFlight).toBe('ok');
    await flush();

    await failTimes(THRESHOLD - 1);

    expect(sut.state).toBe('closed');
  });

  it('counts every command that failed, those in flight when it opened too', async () => {
    const redis = command();
    const replies = Array.from({ length: 10 }, () => settled(sut.run('cache', redis.sent)));

    redis.fail();

    for (const reply of await Promise.all(replies))
      expect(reply).toBeInstanceOf(DependencyUnavailableError);
    await flush();
    expect(sut.state).toBe('open');
    expect((await metrics.redisErrors.get()).values[0]?.value).toBe(10);
  });

  it('after its cooldown lets a trial through; a success closes it and calls flow again', async () => {
    await failTimes(THRESHOLD);
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 10));
    const trial = command();

    const reply = settled(sut.run('cache', trial.sent));
    trial.answer();

    expect(await reply).toBe('ok');
    expect(sut.state).toBe('closed');
    const next = command();
    const after = settled(sut.run('cache', next.sent));
    next.answer();
    expect(await after).toBe('ok');
  });
});
