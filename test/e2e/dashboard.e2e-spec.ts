import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/common/paths';
import { NearCache } from '../../src/movies/cache/near-cache';
import { MetricsServer } from '../../src/ops/metrics.server';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

const file = (path: string) => readFileSync(join(projectRoot(), path), 'utf8');
const DASHBOARD = 'deploy/observability/grafana/dashboards/movie-cache.json';

type Dashboard = { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
type Compose = {
  services: Record<
    string,
    {
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
      profiles?: string[];
    }
  >;
};

/** Metric names in a PromQL expression: the service's, the process' and Node's. */
const metricsIn = (expr: string) => expr.match(/\b(?:movie|process|nodejs)_[a-z_]+\b/g) ?? [];

describe('the provisioned dashboard and the observability profile', () => {
  const movie = movieFactory({ title: 'Dashboarded' });
  let t: TestApp;
  let exposition: string;

  beforeAll(async () => {
    t = await startTestApp({ movies: [movie] });
    await until(async () => t.app.get(NearCache).serving);
    await t.api.getMovie({ id: movie._id.toHexString() });
    await t.api.getMovie({ id: movie._id.toHexString() });
    const port = t.app.get(MetricsServer).port;
    exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  });
  afterAll(() => t.close());

  /** Names the live /metrics declares (`# TYPE name kind`), with the series a histogram adds. */
  const exported = () => {
    const names = new Set<string>();
    for (const [, name, kind] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name);
      if (kind === 'histogram')
        for (const part of ['bucket', 'sum', 'count']) names.add(`${name}_${part}`);
    }
    return names;
  };

  it('names only metrics the service exports, on every panel', () => {
    const dashboard = JSON.parse(file(DASHBOARD)) as Dashboard;
    const names = exported();
    const unknown = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        metricsIn(target.expr)
          .filter((name) => !names.has(name))
          .map((name) => `${panel.title}: ${name}`),
      ),
    );

    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    expect(
      dashboard.panels.every((panel) => panel.targets.some((t) => metricsIn(t.expr).length > 0)),
    ).toBe(true);
    expect(unknown).toEqual([]);
  });

  it('shows the near-cache serving and the Redis breaker closed while both are fine', () => {
    expect(exposition).toMatch(/^movie_near_cache_serving 1$/m);
    expect(exposition).toMatch(/^movie_near_cache_entries 1$/m);
    expect(exposition).toMatch(/^movie_redis_breaker_state 0$/m);
  });

  it('wires the profile together: Prometheus scrapes the app’s metrics port, Grafana mounts the dashboard, the collector sends to Jaeger', () => {
    const compose = parse(file('docker-compose.yml')) as Compose;
    const prometheus = parse(file('deploy/observability/prometheus.yml')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const provider = parse(
      file('deploy/observability/grafana/provisioning/dashboards/dashboards.yaml'),
    ) as {
      providers: Array<{ options: { path: string } }>;
    };
    const collector = parse(file('deploy/observability/otel-collector.yaml')) as {
      exporters: Record<string, { endpoint: string }>;
    };
    const { app, grafana, jaeger } = compose.services;

    const metricsPort = app.environment?.METRICS_PORT ?? '9464'; // the service's default
    expect(app.ports).toContain(`${metricsPort}:${metricsPort}`);
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`app:${metricsPort}`]);
    const mounted = grafana.volumes!.map((v) => v.split(':'));
    expect(mounted).toContainEqual([
      './deploy/observability/grafana/dashboards',
      provider.providers[0].options.path,
      'ro',
    ]);
    expect(collector.exporters['otlp/jaeger'].endpoint).toBe('jaeger:4317');
    expect(jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    for (const name of ['otel-collector', 'jaeger', 'prometheus', 'grafana'])
      expect(compose.services[name].profiles).toEqual(['observability']);
    expect(app.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
  });
});
