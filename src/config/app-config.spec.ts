import { ConfigError, loadConfig } from './app-config';

describe(loadConfig.name, () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      env: 'development',
      grpc: { host: '0.0.0.0', port: 50051 },
      mongoUri: undefined,
      redisUrl: undefined,
      cacheTtlSeconds: 60,
      dataDir: '.data',
      adminToken: undefined,
    });
  });

  it('applies the safe defaults: protected mode on, and every limit docs/guarantees.md lists', () => {
    expect(loadConfig({})).toMatchObject({
      protectedMode: true,
      grpc: { maxConcurrentStreams: 1_000, idleTimeoutMs: 300_000, minPingIntervalMs: 10_000 },
      trendingStreams: { max: 1_000, maxPerPeer: 32 },
      mongoMaxReads: 64,
    });
    expect(loadConfig({ PROTECTED_MODE: 'off' }).protectedMode).toBe(false);
    expect(() => loadConfig({ PROTECTED_MODE: 'no' })).toThrow(/PROTECTED_MODE/);
  });

  it('reads the connection URLs and the TTL', () => {
    const config = loadConfig({
      MONGODB_URI: 'mongodb://db:27017/sample_mflix',
      REDIS_URL: 'rediss://:secret@cache:6380/1',
      CACHE_TTL_SECONDS: '300',
    });
    expect(config).toMatchObject({
      mongoUri: 'mongodb://db:27017/sample_mflix',
      redisUrl: 'rediss://:secret@cache:6380/1',
      cacheTtlSeconds: 300,
    });
  });

  it('reads Redis Cluster seeds, with TLS and AUTH from URL entries, and names the first as REDIS_URL', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: 'rediss://app:p%40ss@redis-0:7000, redis-1:7001,[::1]:7002',
    });
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: 'redis-0', port: 7000 },
        { host: 'redis-1', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: true,
      username: 'app',
      password: 'p@ss',
    });
    expect(config.redisUrl).toBe('rediss://app:p%40ss@redis-0:7000');
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:1' })).toMatchObject({
      redisCluster: { nodes: [{ host: 'a', port: 1 }], tls: false },
      redisUrl: 'redis://a:1',
    });
  });

  it('reads Sentinel addresses and the master group name, with TLS, AUTH and database from REDIS_URL', () => {
    const config = loadConfig({
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'movies',
      REDIS_URL: 'rediss://app:p%40ss@ignored:6380/2',
    });
    expect(config.redisSentinel).toEqual({
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'movies',
      tls: true,
      username: 'app',
      password: 'p@ss',
      db: 2,
    });
    expect(config.redisUrl).toBe('rediss://app:p%40ss@ignored:6380/2');
    expect(loadConfig({ REDIS_SENTINELS: 'a:1' })).toMatchObject({
      redisSentinel: { sentinels: [{ host: 'a', port: 1 }], name: 'mymaster', tls: false, db: 0 },
      redisUrl: 'redis://mymaster',
      redisCluster: undefined,
    });
  });

  it.each([
    [{ REDIS_SENTINELS: 'sentinel-0' }, 'REDIS_SENTINELS entry "sentinel-0" is not host:port'],
    [{ REDIS_SENTINELS: ' , ' }, 'REDIS_SENTINELS names no sentinel'],
    [
      { REDIS_SENTINELS: 'a:1', REDIS_CLUSTER_NODES: 'b:2' },
      'REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    ],
    [{ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'movies' }, 'REDIS_SENTINEL_NAME needs REDIS_SENTINELS'],
  ])('fails at boot on the Sentinel settings %j, naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'redis-0' }, 'REDIS_CLUSTER_NODES entry "redis-0" is not host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:1,http://b:2' }, 'REDIS_CLUSTER_NODES entry http:'],
    [
      { REDIS_CLUSTER_NODES: 'redis://:x@a:1,rediss://:x@b:2' },
      'REDIS_CLUSTER_NODES entries disagree on TLS or credentials',
    ],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1/2' }, 'REDIS_CLUSTER_NODES a cluster has only database 0'],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://b:2' }, 'REDIS_URL or REDIS_CLUSTER_NODES'],
    [{ GRPC_PORT: '70000' }, 'GRPC_PORT'],
    [{ CACHE_TTL_SECONDS: '0' }, 'CACHE_TTL_SECONDS'],
    [{ CACHE_TTL_SECONDS: 'soon' }, 'CACHE_TTL_SECONDS'],
    [{ MONGODB_URI: 'http://db' }, 'MONGODB_URI'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ NODE_ENV: 'production' }, 'ADMIN_TOKEN is required when NODE_ENV=production'],
    [{ GRPC_TLS_CERT: __filename }, 'GRPC_TLS_CERT and GRPC_TLS_KEY must be set together'],
    [{ GRPC_TLS_CERT: '/nope.pem', GRPC_TLS_KEY: '/nope.key' }, 'GRPC_TLS_CERT file not found'],
  ])('fails at boot on %j, naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('starts in production with an admin token', () => {
    expect(loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(32) }).env).toBe(
      'production',
    );
  });

  it('leaves tracing off unless an OTLP endpoint or a traces exporter is set', () => {
    const tracing = (env: Record<string, string>) => loadConfig(env).tracing.enabled;
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

    expect(loadConfig({}).tracing).toEqual({
      enabled: false,
      serviceName: 'movie-cache',
      sampler: 'parentbased_always_on',
      ratio: 1,
    });
    expect(tracing(endpoint)).toBe(true);
    expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracing({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracing({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracing({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(loadConfig({ OTEL_SERVICE_NAME: 'catalogue' }).tracing.serviceName).toBe('catalogue');
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'thrift'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '2'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
  ])('refuses %s=%s at boot, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
