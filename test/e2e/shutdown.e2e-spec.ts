import { status } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { closeApp } from '../../src/app.factory';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import { projectRoot } from '../../src/common/paths';
import { MovieApi } from '../../src/grpc/movie-api';
import { freePort } from '../../src/stack/free-port';
import { movieFactory } from '../factories/movie.factory';
import { buildService } from '../support/service-process';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp } from '../support/test-app';
import { sleep } from '../support/wait';
import { tempDir } from '../support/temp-dir';

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

describe('npm start on the embedded default', () => {
  beforeAll(buildService);

  it('starts Redis and FerretDB, imports the bundled movies, serves, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const server = spawn('node', [join(projectRoot(), 'dist/src/dev.js')], {
      cwd: projectRoot(),
      env: {
        ...process.env,
        MONGODB_URI: '',
        REDIS_URL: '',
        GRPC_PORT: String(port),
        METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
        DATA_DIR: tempDir('movie-cache-start-'),
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    const api = MovieApi.connect(`127.0.0.1:${port}`);
    try {
      let title: string | undefined;
      for (let i = 0; i < 300 && !title; i += 1) {
        title = await api
          .getMovie({ title: 'The Great Train Robbery' })
          .then((r) => r.movie?.title)
          .catch(() => sleep(200).then(() => undefined));
      }
      expect(title).toBe('The Great Train Robbery');
      expect((await api.getCacheStats()).status).toBe('ok');
    } finally {
      api.close();
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});
