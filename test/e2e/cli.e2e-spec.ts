import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { projectRoot } from '../../src/common/paths';
import { importMovies } from '../../src/movies/import/movie-import';
import { bundledMovies } from '../support/bundled-movies';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

const TOKEN = 'cli-admin-token-1234';
const ROBBERY = '573a1390f29313caabcd42e8';

describe('CLI (the movie-cache bin and npm run cli) against the running app', () => {
  let t: TestApp;

  // As users run it: the package's bin through npx, and npm run cli (both run the built dist/).
  const run = (file: string, args: string[]) =>
    promisify(execFile)(file, args, {
      cwd: projectRoot(),
      env: { ...process.env, ADMIN_TOKEN: TOKEN },
    });
  const bin = async (...args: string[]) =>
    (await run('npx', ['movie-cache', '--address', t.address, ...args])).stdout;
  const cli = async (...args: string[]) =>
    (await run('npm', ['run', '-s', 'cli', '--', '--address', t.address, ...args])).stdout;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN: TOKEN } });
    await importMovies(t.movies, await bundledMovies());
    // A missing or stale dist/ is built by the first call; alone here, it costs no test its timeout.
    await run('bash', ['scripts/cli.sh', '--help']);
  }, 180_000);
  afterAll(() => t.close());

  it('get prints the movie, as a table (npx movie-cache) and as JSON (npm run cli)', async () => {
    const table = await bin('get', '--title', 'The Great Train Robbery');
    const json = JSON.parse(await cli('--json', 'get', '--id', ROBBERY));

    expect(table).toContain('The Great Train Robbery');
    expect(table).toContain('CACHE_STATUS_MISS');
    expect(json).toMatchObject({ movie: { id: ROBBERY, year: 1903 }, cacheStatus: 1 });
  });

  it('get with several lookups makes one BatchGetMovies: a row per lookup, in order, each with its own status', async () => {
    const args = ['get', '--id', ROBBERY, '--title', 'The Man Who Knew Too Much', '--year', '1934'];
    const table = await cli(...args, '--id', '0123456789abcdef01234567', '--title', 'Peter Pan');
    const json = JSON.parse(await cli('--json', ...args, '--id', 'nope'));

    const rows = stripVTControlCharacters(table)
      .split('\n')
      .filter((line) => line.startsWith('│'));
    expect(rows.map((row) => row.split('│')[1].trim())).toEqual([
      'lookup',
      ROBBERY,
      '"The Man Who Knew Too Much" (1934)',
      '0123456789abcdef01234567',
      '"Peter Pan"',
    ]);
    expect(rows[2]).toContain('1934');
    expect(rows[3]).toContain('NOT_FOUND: no movie with id 0123456789abcdef01234567');
    expect(rows[4]).toContain('1953');
    expect(json.results).toHaveLength(3);
    expect(json.results[0].found).toMatchObject({ movie: { id: ROBBERY }, cacheStatus: 1 });
    expect(json.results[1].found.movie).toMatchObject({ year: 1934 });
    expect(json.results[2].error).toMatchObject({ code: 3 });
  });

  it('update-rating writes through with the admin token', async () => {
    const json = JSON.parse(
      await cli('--json', 'update-rating', '--id', ROBBERY, '--rating', '7.9'),
    );
    expect(json).toMatchObject({ movie: { rating: 7.9 }, cacheRefreshed: true });
  });

  it('stats and trending print the live state', async () => {
    const stats = JSON.parse(await cli('--json', 'stats'));
    const trending = JSON.parse(await cli('--json', 'trending', '--limit', '3', '--movies'));

    expect(stats).toMatchObject({ status: 'ok', redisOk: true, mongoOk: true });
    expect(trending.entries[0]).toMatchObject({
      movieId: ROBBERY,
      title: 'The Great Train Robbery',
      movie: { id: ROBBERY, year: 1903 },
    });
  });

  it("benchmark prints the study's report and writes it as JSON", async () => {
    const out = join(tempDir('cli-'), 'report.json');
    const table = await cli('benchmark', '--seed', '42', '--out', out);
    const report = JSON.parse(readFileSync(out, 'utf8'));

    expect(table).toContain('hit ratio');
    expect(table).toContain('faster than misses');
    expect(report).toMatchObject({ totalRequests: 500, seed: 42 });
    expect(report.hitRatio).toBe(report.optimalHitRatio);
  });

  it('reports a gRPC error on stderr with exit code 1', async () => {
    await expect(cli('get', '--id', 'nope')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('error: INVALID_ARGUMENT: id must be'),
    });
  });
});
