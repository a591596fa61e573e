import type { INestMicroservice } from '@nestjs/common';
import { SHUTDOWN_STUCK_MS, shutdownOnce } from './app.factory';

/** An app whose close resolves when `closed` does; its logger and trending feed are recorded. */
function appClosing(closed: Promise<void>) {
  const logger = { log: jest.fn(), error: jest.fn() };
  const app = {
    get: () => ({ ...logger, endAll: jest.fn() }),
    close: () => closed,
  };
  return { app: app as unknown as INestMicroservice, logger };
}

describe(shutdownOnce.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('exits 0 once the app has closed', async () => {
    const exit = jest.fn();
    const { app } = appClosing(Promise.resolve());

    await shutdownOnce(app, undefined, exit)('SIGTERM');

    expect(exit).toHaveBeenCalledWith(0);
  });

  it('exits 1, saying so, when closing hangs past its limit', async () => {
    const exit = jest.fn();
    const { app, logger } = appClosing(new Promise<void>(() => undefined));
    void shutdownOnce(app, undefined, exit)('SIGTERM');

    await jest.advanceTimersByTimeAsync(SHUTDOWN_STUCK_MS - 1);
    expect(exit).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);

    expect(exit).toHaveBeenCalledWith(1);
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringContaining('shutdown still not done'),
      'Bootstrap',
    );
  });
});
