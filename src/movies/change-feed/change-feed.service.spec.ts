import type { Connection } from 'mongoose';
import { setTimeout as delay } from 'node:timers/promises';
import type { AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import type { MovieCache } from '../cache/movie-cache';
import { ChangeFeed } from './change-feed.service';
import type { ChangeSource } from './change-source';
import { chooseSource } from './choose-source';
import type { FeedLeader } from './feed-leader';

// The source is not the point: the feed's own loop is, stopped at a chosen moment.
jest.mock('./choose-source', () => ({ chooseSource: jest.fn() }));

/** A source that follows until its signal aborts, as the real ones do. */
const followsUntilAborted = (): ChangeSource => ({
  name: 'postgres-outbox',
  now: () => Promise.resolve('token-0'),
  follow: (_token, _onBatch, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    }),
  close: () => Promise.resolve(),
});

/** A leader whose lead() answers when the test says. */
function heldLeader() {
  const answers: Array<(held: boolean) => void> = [];
  const leader = {
    leaseMs: 1_000,
    lead: jest.fn(() => new Promise<boolean>((resolve) => answers.push(resolve))),
    token: () => Promise.resolve('token-0'),
    save: () => Promise.resolve(true),
    resign: jest.fn(() => Promise.resolve()),
  };
  return { leader, answer: (held: boolean) => answers.shift()!(held) };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await delay(5);
}

/** A started feed whose first lead() is in flight. */
async function feedAskingForTheLease() {
  const { leader, answer } = heldLeader();
  const sut = new ChangeFeed(
    leader as unknown as FeedLeader,
    {} as MovieCache,
    new MetricsService(),
    {} as Connection,
    { changeFeed: {} } as AppConfig,
  );
  sut.onApplicationBootstrap();
  await until(() => leader.lead.mock.calls.length === 1);
  return { sut, leader, answer };
}

describe(ChangeFeed.name, () => {
  beforeEach(() => {
    jest.mocked(chooseSource).mockResolvedValue({ source: followsUntilAborted() });
  });

  it('stops when shut down while it is winning the lease: it does not go on to follow', async () => {
    const { sut, leader, answer } = await feedAskingForTheLease();

    // The shutdown lands while lead() is in flight; then the lease is won.
    const stopped = sut.onApplicationShutdown().then(() => 'stopped');
    answer(true);

    await expect(
      Promise.race([stopped, delay(2_000, 'still running', { ref: false })]),
    ).resolves.toBe('stopped');
    expect(leader.resign).toHaveBeenCalled();
  });

  it('stops a follow under way when shut down', async () => {
    const { sut, answer } = await feedAskingForTheLease();
    answer(true);
    await until(() => sut.stats().leader);

    const stopped = sut.onApplicationShutdown().then(() => 'stopped');

    await expect(
      Promise.race([stopped, delay(2_000, 'still running', { ref: false })]),
    ).resolves.toBe('stopped');
  });
});
