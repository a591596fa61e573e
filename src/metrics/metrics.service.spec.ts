import { MetricsService } from './metrics.service';

describe(`${MetricsService.name} hot counts`, () => {
  it('adds what was counted in process to the counter once, whenever a metric is read', async () => {
    const sut = new MetricsService();
    const hits = sut.hotCount(sut.cacheLookups, { status: 'hit' });
    const ok = sut.hotCount(sut.rpcs, { method: 'GetMovie', code: 'OK' });
    for (let i = 0; i < 3; i += 1) hits.inc();
    ok.inc();

    const first = (await sut.cacheLookups.get()).values.map((v) => ({ ...v }));
    hits.inc();
    const text = await sut.registry.metrics();
    const again = await sut.cacheLookups.get();

    expect(first).toEqual([{ labels: { status: 'hit' }, value: 3 }]);
    expect(text).toContain('movie_cache_lookups_total{status="hit"} 4');
    expect(text).toContain('movie_grpc_requests_total{method="GetMovie",code="OK"} 1');
    expect(again.values).toEqual([{ labels: { status: 'hit' }, value: 4 }]);
  });
});

describe(`${MetricsService.name} state gauges`, () => {
  const gauge = async (sut: MetricsService, name: string) =>
    (await sut.registry.getSingleMetric(name)!.get()).values[0].value;

  it('reads the near-cache and the breaker only when metrics are read, not serving until told', async () => {
    const sut = new MetricsService();
    const before = [
      await gauge(sut, 'movie_near_cache_serving'),
      await gauge(sut, 'movie_near_cache_entries'),
      await gauge(sut, 'movie_redis_breaker_state'),
    ];
    let near = { serving: true, entries: 7 };
    sut.nearCacheState = () => near;

    const serving = await gauge(sut, 'movie_near_cache_serving');
    const entries = await gauge(sut, 'movie_near_cache_entries');
    near = { serving: false, entries: 0 };
    const lapsed = await gauge(sut, 'movie_near_cache_serving');

    expect(before).toEqual([0, 0, 0]);
    expect([serving, entries, lapsed]).toEqual([1, 7, 0]);
  });

  it.each([
    ['closed', 0],
    ['half-open', 1],
    ['open', 2],
  ] as const)('shows a %s breaker as %d', async (state, value) => {
    const sut = new MetricsService();
    sut.redisBreakerState = () => state;

    expect(await sut.registry.metrics()).toContain(`\nmovie_redis_breaker_state ${value}\n`);
  });
});
