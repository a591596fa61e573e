import { NearCache } from '../../src/movies/cache/near/near-cache';
import { MetricsServer } from '../../src/ops/metrics.server';
import { movieFactory } from '../factories/movie.factory';
import { SnapshotReader } from '../support/snapshot-reader';
import { until } from '../support/wait';
import { startTestApp, type TestApp } from '../support/test-app';

describe('Prometheus metrics', () => {
  const movie = movieFactory({ title: 'Measured' });
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startTestApp({ movies: [movie] });
    url = `http://127.0.0.1:${t.app.get(MetricsServer).port}`;
  });
  afterAll(() => t.close());

  const scrape = async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it('exposes the counters, and they move with traffic', async () => {
    const before = await scrape();
    const id = movie._id.toHexString();
    await t.api.getMovie({ id });
    await t.api.getMovie({ id });
    await t.api.getMovie({ id: 'bad' }).catch(() => undefined);
    const after = await scrape();

    expect(
      value(after, 'movie_cache_lookups_total{status="miss"}') -
        value(before, 'movie_cache_lookups_total{status="miss"}'),
    ).toBe(1);
    expect(
      value(after, 'movie_cache_lookups_total{status="hit"}') -
        value(before, 'movie_cache_lookups_total{status="hit"}'),
    ).toBe(1);
    expect(
      value(after, 'movie_getmovie_duration_seconds_count{cache_status="hit"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(
        after,
        'movie_mongodb_query_duration_seconds_count{operation="findById",outcome="ok"}',
      ) -
        value(
          before,
          'movie_mongodb_query_duration_seconds_count{operation="findById",outcome="ok"}',
        ),
    ).toBe(1);
    expect(
      value(after, 'movie_grpc_requests_total{method="GetMovie",code="INVALID_ARGUMENT"}'),
    ).toBe(1);
    expect(after).toContain('# TYPE movie_redis_errors_total counter');
    expect(after).toContain('process_resident_memory_bytes');
  });

  it('counts hits by the tier that answered', async () => {
    const id = movie._id.toHexString();
    await until(async () => t.app.get(NearCache).serving);
    await t.api.getMovie({ id });
    const before = await scrape();
    await t.api.getMovie({ id }); // this near-cache
    t.app.get(NearCache).clear();
    await t.api.getMovie({ id }); // Redis
    const after = await scrape();

    for (const tier of ['local', 'redis'])
      expect(
        value(after, `movie_cache_hits_total{tier="${tier}"}`) -
          value(before, `movie_cache_hits_total{tier="${tier}"}`),
      ).toBe(1);
  });

  it('counts open trending streams and benchmark runs', async () => {
    const reader = new SnapshotReader(t.api.streamTrending({}));
    await reader.waitFor(() => true);
    expect(value(await scrape(), 'movie_trending_open_streams')).toBe(1);
    reader.cancel();

    await t.api.runBenchmark({ requests: 10, keySpace: 1 });
    const text = await scrape();
    expect(value(text, 'movie_benchmark_runs_total{outcome="completed"}')).toBe(1);
  });

  it('answers 404 elsewhere', async () => {
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });
});
