import { status } from '@grpc/grpc-js';
import { closeApp } from '../../src/app.factory';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import { movieFactory } from '../factories/movie.factory';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp } from '../support/test-app';
import { sleep } from '../support/wait';

const slowFill = (ms: number): CacheHooks => ({ beforeFill: () => sleep(ms) });

describe('graceful shutdown', () => {
  it('lets in-flight calls finish and ends open streams with UNAVAILABLE', async () => {
    const movie = movieFactory({ title: 'Last Order' });
    const t = await startTestApp({ movies: [movie], hooks: slowFill(400) });
    const stream = new SnapshotReader(t.api.streamTrending({}));
    await stream.waitFor(() => true);
    const inFlight = t.api.getMovie({ id: movie._id.toHexString() });
    await sleep(100);

    await closeApp(t.app);

    expect((await inFlight).movie?.title).toBe('Last Order');
    expect(await stream.closed()).toMatchObject({ code: 14 });
    await t.close().catch(() => undefined);
  });

  it('stops calls still running after SHUTDOWN_GRACE_MS', async () => {
    const movie = movieFactory({ title: 'Too Slow' });
    const t = await startTestApp({
      env: { SHUTDOWN_GRACE_MS: '300' },
      movies: [movie],
      hooks: slowFill(10_000),
    });
    const inFlight = t.api.getMovie({ id: movie._id.toHexString() });
    inFlight.catch(() => undefined);
    await sleep(100);

    const started = Date.now();
    await closeApp(t.app);

    expect(Date.now() - started).toBeLessThan(3_000);
    // The server's forced shutdown cancels the call.
    await expect(inFlight).rejects.toMatchObject({ code: status.CANCELLED });
    await t.close().catch(() => undefined);
  });
});
