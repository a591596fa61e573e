import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/common/paths';
import { envSchema } from '../../src/config/env-schema';
import { NearCache } from '../../src/movies/cache/near/near-cache';
import { RedisCircuit } from '../../src/redis/redis-circuit';
import { movieFactory } from '../factories/movie.factory';
import { metricsUrl } from '../support/app-metrics';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

const file = (path: string) => readFileSync(join(projectRoot(), path), 'utf8');
const DASHBOARD = 'deploy/observability/grafana/dashboards/movie-cache.json';

type DataSourceRef = { type: string; uid: string };
type Dashboard = {
  panels: Array<{
    title: string;
    datasource: DataSourceRef;
    targets: Array<{ expr: string; datasource: DataSourceRef }>;
  }>;
};
type Compose = {
  services: Record<
    string,
    {
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
      profiles?: string[];
    }
  >;
};

/** Metric names in a PromQL expression: the service's, the process' and Node's. */
const metricsIn = (expr: string) => expr.match(/\b(?:movie|process|nodejs)_\w+/g) ?? [];

/**
 * The series names an exposition lets PromQL query, from its `# TYPE name kind` lines: a histogram
 * only as `_bucket`, `_sum` and `_count` (its bare name has no series), a summary as both.
 */
function queryable(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (kind !== 'histogram') names.add(name);
    if (kind === 'histogram') names.add(`${name}_bucket`);
    if (kind === 'histogram' || kind === 'summary')
      for (const part of ['sum', 'count']) names.add(`${name}_${part}`);
  }
  return names;
}

/** `host:container[:mode]` volume mounts of a compose service, as [host, container]. */
const mounts = (volumes: string[] = []) =>
  volumes.map((volume) => volume.split(':').slice(0, 2) as [string, string]);

describe('the provisioned dashboard and the observability profile', () => {
  const movie = movieFactory({ title: 'Dashboarded' });
  let t: TestApp;
  let scrape: () => Promise<string>;
  let exposition: string;

  beforeAll(async () => {
    // Nothing but this spec moves the breaker: no health pings, no half-open trial.
    t = await startTestApp({
      movies: [movie],
      env: { HEALTH_INTERVAL_MS: '60000', REDIS_BREAKER_COOLDOWN_MS: '60000' },
    });
    const url = metricsUrl(t.app);
    scrape = async () => (await fetch(url)).text();
    await until(async () => t.app.get(NearCache).serving);
    await t.api.getMovie({ id: movie._id.toHexString() });
    await t.api.getMovie({ id: movie._id.toHexString() });
    exposition = await scrape();
  });
  afterAll(() => t.close());

  it('names only metrics the service exports, on every panel, from the provisioned Prometheus', () => {
    const dashboard = JSON.parse(file(DASHBOARD)) as Dashboard;
    const names = queryable(exposition);
    const unknown = dashboard.panels.flatMap((panel) =>
      panel.targets.flatMap((target) =>
        metricsIn(target.expr)
          .filter((name) => !names.has(name))
          .map((name) => `${panel.title}: ${name}`),
      ),
    );
    const { datasources } = parse(
      file('deploy/observability/grafana/provisioning/datasources/datasources.yaml'),
    ) as { datasources: Array<DataSourceRef & { url: string }> };
    const prometheus = datasources.find((source) => source.type === 'prometheus')!;
    const sources = dashboard.panels.flatMap((panel) => [
      panel.datasource,
      ...panel.targets.map((target) => target.datasource),
    ]);

    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    expect(
      dashboard.panels.filter((panel) => !panel.targets.some((t) => metricsIn(t.expr).length)),
    ).toEqual([]);
    expect(unknown).toEqual([]);
    expect(new Set(sources.map((s) => `${s.type}/${s.uid}`))).toEqual(
      new Set([`prometheus/${prometheus.uid}`]),
    );
  });

  it('reads the near-cache gauges once it serves, and the breaker as it moves', async () => {
    const circuit = t.app.get(RedisCircuit);
    const failing = () => Promise.reject(new Error('refused'));

    expect(exposition).toMatch(/^movie_near_cache_serving 1$/m);
    expect(exposition).toMatch(/^movie_near_cache_entries 1$/m);
    expect(exposition).toMatch(/^movie_redis_breaker_state 0$/m);

    for (let i = 0; i < t.config.redisBreakerThreshold; i += 1)
      await circuit.run('dashboard-spec', failing).catch(() => undefined);
    const open = await scrape();
    await circuit.ping();
    const closed = await scrape();

    expect(open).toMatch(/^movie_redis_breaker_state 2$/m);
    expect(closed).toMatch(/^movie_redis_breaker_state 0$/m);
  });

  it('wires the profile together: Prometheus scrapes the app’s metrics port, Grafana mounts what it provisions, the collector sends to Jaeger', () => {
    const compose = parse(file('docker-compose.yml')) as Compose;
    const prometheus = parse(file('deploy/observability/prometheus.yml')) as {
      scrape_configs: Array<{
        metrics_path?: string;
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    const provider = parse(
      file('deploy/observability/grafana/provisioning/dashboards/dashboards.yaml'),
    ) as { providers: Array<{ options: { path: string } }> };
    const { datasources } = parse(
      file('deploy/observability/grafana/provisioning/datasources/datasources.yaml'),
    ) as { datasources: Array<{ url: string }> };
    const collector = parse(file('deploy/observability/otel-collector.yaml')) as {
      receivers: { otlp: { protocols: Record<'grpc' | 'http', { endpoint: string }> } };
      exporters: Record<string, { endpoint: string }>;
    };
    const { app, grafana, jaeger } = compose.services;
    const otel = compose.services['otel-collector'];

    // What the app listens on in compose: its METRICS_PORT there, else the schema's default.
    const metricsPort = String(envSchema.shape.METRICS_PORT.parse(app.environment?.METRICS_PORT));
    expect(app.ports).toContain(`${metricsPort}:${metricsPort}`);
    expect(prometheus.scrape_configs[0].metrics_path ?? '/metrics').toBe('/metrics');
    expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`app:${metricsPort}`]);
    expect(mounts(compose.services.prometheus.volumes)).toContainEqual([
      './deploy/observability/prometheus.yml',
      '/etc/prometheus/prometheus.yml',
    ]);

    expect(mounts(grafana.volumes)).toEqual(
      expect.arrayContaining([
        ['./deploy/observability/grafana/provisioning', '/etc/grafana/provisioning'],
        ['./deploy/observability/grafana/dashboards', provider.providers[0].options.path],
      ]),
    );
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${provider.providers[0].options.path}/movie-cache.json`,
    );
    for (const { url } of datasources)
      expect(Object.keys(compose.services)).toContain(new URL(url).hostname);

    const config = otel.command?.find((arg) => arg.startsWith('--config='))?.slice(9);
    expect(mounts(otel.volumes)).toContainEqual([
      './deploy/observability/otel-collector.yaml',
      config,
    ]);
    expect(collector.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(collector.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(collector.exporters['otlp/jaeger'].endpoint).toBe('jaeger:4317');
    expect(jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    for (const name of ['otel-collector', 'jaeger', 'prometheus', 'grafana'])
      expect(compose.services[name].profiles).toEqual(['observability']);
    expect(app.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}');
  });
});
