import { CacheCounters } from '../../src/movies/cache/cache-counters';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/common/paths';
import { movieFactory } from '../factories/movie.factory';
import { checkHealth } from '../support/health-client';
import { startTestApp, type TestApp } from '../support/test-app';

const grpcurl = (...args: string[]) =>
  promisify(execFile)(join(projectRoot(), '.tools/bin/grpcurl'), ['-plaintext', ...args]);

describe('operations: health, reflection, stats', () => {
  const movie = movieFactory({ title: 'Observable' });
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ movies: [movie] });
  });
  afterAll(() => t.close());

  it('reports SERVING on grpc.health.v1 for the server and for MovieService', async () => {
    expect(await checkHealth(t.address)).toBe('SERVING');
    expect(await checkHealth(t.address, 'movies.v1.MovieService')).toBe('SERVING');
  });

  it('lists and describes the services through server reflection (grpcurl, no proto file)', async () => {
    const list = await grpcurl(t.address, 'list');
    const describe = await grpcurl(t.address, 'describe', 'movies.v1.MovieService.GetMovie');
    const message = await grpcurl(t.address, 'describe', 'movies.v1.Movie');

    expect(list.stdout.split('\n')).toEqual(
      expect.arrayContaining(['grpc.health.v1.Health', 'movies.v1.MovieService']),
    );
    expect(describe.stdout).toContain(
      'rpc GetMovie ( .movies.v1.GetMovieRequest ) returns ( .movies.v1.GetMovieResponse )',
    );
    expect(message.stdout).toContain('double rating = 5;');
    expect(message.stdout).toContain('int64 imdb_votes = 6;');
  });

  it('accepts the proto field names in grpcurl JSON', async () => {
    const { stdout } = await grpcurl(
      '-d',
      JSON.stringify({ title: 'Observable', year: movie.year }),
      t.address,
      'movies.v1.MovieService/GetMovie',
    );
    expect(JSON.parse(stdout).movie.runtime_minutes).toBe(movie.runtime);
  });

  it('answers a GetMovie call made by grpcurl with JSON', async () => {
    const { stdout } = await grpcurl(
      '-d',
      JSON.stringify({ title: 'Observable' }),
      t.address,
      'movies.v1.MovieService/GetMovie',
    );
    expect(JSON.parse(stdout)).toMatchObject({
      movie: { id: movie._id.toHexString(), title: 'Observable' },
      cache_status: 'CACHE_STATUS_MISS',
    });
  });

  it('reports counters, settings and dependency status in GetCacheStats', async () => {
    const id = movie._id.toHexString();
    await t.app.get(CacheCounters).flush();
    await t.redis.flushdb();
    t.app.get(NearCache).clear();
    await t.api.getMovie({ id });
    await t.api.getMovie({ id });
    await t.api.getMovie({ id });

    const stats = await t.api.getCacheStats();

    expect(stats).toMatchObject({
      hits: 2,
      misses: 1,
      bypasses: 0,
      ttlSeconds: t.config.cacheTtlSeconds,
      redisOk: true,
      mongoOk: true,
      status: 'ok',
    });
    expect(stats.hitRatio).toBeCloseTo(2 / 3, 10);
    expect(stats.startedAtUnixMs).toBeLessThanOrEqual(Date.now());
    expect(await t.redis.get('system:status')).toBe('ok');
    expect(await t.redis.get('settings:ttl_seconds')).toBe(String(t.config.cacheTtlSeconds));
  });

  it('streams trending snapshots to grpcurl, which accepts the proto field names', async () => {
    await t.api.getMovie({ id: movie._id.toHexString() });
    const { stdout } = await grpcurl(
      '-max-time',
      '1.5',
      '-d',
      JSON.stringify({ limit: 5, window_seconds: 60, interval_ms: 100 }),
      t.address,
      'movies.v1.MovieService/StreamTrending',
    ).catch((error: { stdout: string }) => error);
    expect(stdout).toContain(`"movie_id": "${movie._id.toHexString()}"`);
  });
});
