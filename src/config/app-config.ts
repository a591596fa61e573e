import { envSchema } from './env-schema';
import { firstNodeUrl, type RedisClusterConfig } from './redis-cluster-nodes';
import { DEFAULT_SENTINEL_NAME, sentinelConfig, type RedisSentinelConfig } from './redis-sentinels';
import type { TrustedProxy } from './trusted-proxies';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  grpc: {
    host: string;
    port: number;
    tls?: { certFile: string; keyFile: string };
    /** HTTP/2 streams (calls) one connection may have open at once. */
    maxConcurrentStreams: number;
    /** A connection with no call for this long is closed (GOAWAY). */
    idleTimeoutMs: number;
    /** A client pinging more often than this, with no call in between, gets GOAWAY. */
    minPingIntervalMs: number;
  };
  /** Without an admin token, admin RPCs are served to loopback clients only. */
  protectedMode: boolean;
  /** Open StreamTrending calls allowed on this instance, and from one client address. */
  trendingStreams: { max: number; maxPerPeer: number };
  /** Peers whose x-forwarded-for names the client (stream caps, protected mode); empty: none. */
  trustedProxies: TrustedProxy[];
  /** Absent: the embedded stack (redis-server + FerretDB) is started. */
  mongoUri?: string;
  /**
   * With redisCluster: its first seed node; with redisSentinel: REDIS_URL, else
   * `redis://<master name>` (its host is not dialled). Set: the embedded stack is not started.
   */
  redisUrl?: string;
  /** REDIS_CLUSTER_NODES: every Redis client is a cluster client. */
  redisCluster?: RedisClusterConfig;
  /** REDIS_SENTINELS: every Redis client asks Sentinel for the master, and follows failovers. */
  redisSentinel?: RedisSentinelConfig;
  dataDir: string;
  cacheTtlSeconds: number;
  /** Each fill's TTL varies by up to this fraction either way, so keys filled together expire apart. */
  cacheTtlJitter: number;
  /** How long a lookup of an unknown movie is remembered as absent (0: not at all). */
  negativeTtlSeconds: number;
  /** How long other instances wait for the one instance filling a cold key. */
  fillLeaseMs: number;
  redisBreakerThreshold: number;
  redisBreakerCooldownMs: number;
  adminToken?: string;
  mongoTimeoutMs: number;
  /** The cache's MongoDB reads in flight at most; more wait (within their deadline). */
  mongoMaxReads: number;
  redisTimeoutMs: number;
  healthIntervalMs: number;
  /** On SIGTERM, how long in-flight calls may take before the server stops them. */
  shutdownGraceMs: number;
  seedIfEmpty?: boolean;
  /** Granularity of windowed trending rankings. */
  trendingBucketSeconds: number;
  /** How often buffered views are written to Redis. */
  viewFlushMs: number;
  /** false: every read goes to MongoDB (baseline for benchmarks). */
  cacheEnabled: boolean;
  /** Copies stay in Redis this long past their TTL, to be served (STALE) when MongoDB fails. */
  cacheGraceSeconds: number;
  /** A miss of an expired copy waits this long for MongoDB before the graced copy is served. */
  cacheSoftTimeoutMs: number;
  /** When a hit close to expiry refreshes the copy in the background. */
  refreshAhead: { mode: 'xfetch' | 'fraction' | 'off'; beta: number; fraction: number };
  nearCache: {
    enabled: boolean;
    maxEntries: number;
    maxBytes: number;
    /** An entry lives at most this long, and never past its Redis copy's TTL. */
    ttlMs: number;
    /** How long an instance keeps serving from it without hearing from the invalidation channel. */
    leaseMs: number;
  };
  changeFeed: {
    /** auto: PostgreSQL's outbox when postgresUrl is known, else a change stream if MongoDB has one. */
    mode: 'auto' | 'mongodb' | 'postgres' | 'off';
    /** The PostgreSQL under FerretDB (the embedded stack's, unless given). */
    postgresUrl?: string;
    /** The leader's lease: a dead leader's feed is taken over within this. */
    leaseMs: number;
    /** How long the outbox keeps applied changes (a feed down longer than this flushes). */
    retentionMs: number;
  };
  /** The live consistency checker: a sample of cache hits checked against MongoDB later. */
  consistency: {
    /** The fraction of hits sampled (0: the checker is off). */
    sampleRate: number;
    /** Samples recorded per second at most; more are dropped. */
    maxPerSecond: number;
    /** How long after its answer each sample is checked, ascending (seconds). */
    horizonsSeconds: number[];
    /** An inconsistent copy is dropped, as a write made outside the service would drop it. */
    heal: boolean;
  };
  /** Prometheus /metrics over HTTP; 0 picks a free port. */
  metricsPort: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** OpenTelemetry traces: on when an OTLP endpoint (or OTEL_TRACES_EXPORTER) is set. */
  tracing: {
    enabled: boolean;
    serviceName: string;
    /** OTEL_TRACES_SAMPLER and its ratio (OTEL_TRACES_SAMPLER_ARG, for the ratio samplers). */
    sampler: TracesSampler;
    ratio: number;
  };
}

export type TracesSampler =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** Connection settings once the embedded stack (if any) is up. */
export type ResolvedAppConfig = AppConfig & { mongoUri: string; redisUrl: string };

export class ConfigError extends Error {}

/** The one place that reads the environment; fails naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const sentinelName = e.REDIS_SENTINEL_NAME ?? DEFAULT_SENTINEL_NAME;
  const redisSentinel =
    e.REDIS_SENTINELS && sentinelConfig(e.REDIS_SENTINELS, sentinelName, e.REDIS_URL);
  return {
    env: e.NODE_ENV,
    grpc: {
      host: e.GRPC_HOST,
      port: e.GRPC_PORT,
      tls:
        e.GRPC_TLS_CERT && e.GRPC_TLS_KEY
          ? { certFile: e.GRPC_TLS_CERT, keyFile: e.GRPC_TLS_KEY }
          : undefined,
      maxConcurrentStreams: e.GRPC_MAX_CONCURRENT_STREAMS,
      idleTimeoutMs: e.GRPC_IDLE_TIMEOUT_MS,
      minPingIntervalMs: e.GRPC_MIN_PING_INTERVAL_MS,
    },
    protectedMode: e.PROTECTED_MODE === 'on',
    trendingStreams: { max: e.TRENDING_MAX_STREAMS, maxPerPeer: e.TRENDING_MAX_STREAMS_PER_PEER },
    trustedProxies: e.TRUSTED_PROXIES,
    mongoUri: e.MONGODB_URI,
    redisUrl:
      e.REDIS_URL ??
      (e.REDIS_CLUSTER_NODES && firstNodeUrl(e.REDIS_CLUSTER_NODES)) ??
      (redisSentinel && `redis://${encodeURIComponent(sentinelName)}`),
    redisCluster: e.REDIS_CLUSTER_NODES,
    redisSentinel,
    dataDir: e.DATA_DIR,
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    cacheTtlJitter: e.CACHE_TTL_JITTER,
    negativeTtlSeconds: e.NEGATIVE_TTL_SECONDS,
    fillLeaseMs: e.FILL_LEASE_MS,
    redisBreakerThreshold: e.REDIS_BREAKER_THRESHOLD,
    redisBreakerCooldownMs: e.REDIS_BREAKER_COOLDOWN_MS,
    adminToken: e.ADMIN_TOKEN,
    mongoTimeoutMs: e.MONGO_TIMEOUT_MS,
    mongoMaxReads: e.MONGO_MAX_READS,
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    healthIntervalMs: e.HEALTH_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    seedIfEmpty: e.SEED_IF_EMPTY,
    trendingBucketSeconds: e.TRENDING_BUCKET_SECONDS,
    viewFlushMs: e.VIEW_FLUSH_MS,
    cacheEnabled: e.CACHE_ENABLED ?? true,
    cacheGraceSeconds: e.CACHE_GRACE_SECONDS,
    cacheSoftTimeoutMs: e.CACHE_SOFT_TIMEOUT_MS,
    refreshAhead: {
      mode: e.REFRESH_AHEAD,
      beta: e.REFRESH_AHEAD_BETA,
      fraction: e.REFRESH_AHEAD_FRACTION,
    },
    nearCache: {
      enabled: e.NEAR_CACHE === 'on',
      maxEntries: e.NEAR_CACHE_MAX_ENTRIES,
      maxBytes: e.NEAR_CACHE_MAX_MB * 1024 * 1024,
      ttlMs: e.NEAR_CACHE_TTL_MS,
      leaseMs: e.NEAR_CACHE_LEASE_MS,
    },
    changeFeed: {
      mode: e.CHANGE_FEED,
      postgresUrl: e.CHANGE_FEED_POSTGRES_URL,
      leaseMs: e.CHANGE_FEED_LEASE_MS,
      retentionMs: e.CHANGE_FEED_RETENTION_HOURS * 3_600_000,
    },
    consistency: {
      sampleRate: e.CONSISTENCY_SAMPLE_RATE,
      maxPerSecond: e.CONSISTENCY_MAX_PER_SECOND,
      horizonsSeconds: e.CONSISTENCY_HORIZONS,
      heal: e.CONSISTENCY_HEAL === 'on',
    },
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    tracing: {
      enabled:
        e.OTEL_SDK_DISABLED !== true &&
        e.OTEL_TRACES_EXPORTER !== 'none' &&
        Boolean(
          e.OTEL_EXPORTER_OTLP_ENDPOINT ||
          e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
          e.OTEL_TRACES_EXPORTER,
        ),
      serviceName: e.OTEL_SERVICE_NAME,
      sampler: e.OTEL_TRACES_SAMPLER,
      ratio: e.OTEL_TRACES_SAMPLER_ARG,
    },
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
