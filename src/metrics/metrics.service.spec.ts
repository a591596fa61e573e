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
