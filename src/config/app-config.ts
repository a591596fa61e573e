import { existsSync } from 'node:fs';
import { z } from 'zod';
import { firstNodeUrl, redisClusterNodes, type RedisClusterConfig } from './redis-cluster-nodes';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || protocols.some((p) => value.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) =>
    value === undefined || value === '' ? undefined : ['true', '1'].includes(value),
  );

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    GRPC_HOST: z.string().min(1).default('0.0.0.0'),
    GRPC_PORT: port.default(50051),
    MONGODB_URI: optionalUrl(['mongodb://', 'mongodb+srv://']),
    REDIS_URL: optionalUrl(['redis://', 'rediss://']),
    REDIS_CLUSTER_NODES: redisClusterNodes,
    DATA_DIR: z.string().min(1).default('.data'),
    CACHE_TTL_SECONDS: positiveInt.max(86_400 * 30).default(60),
    ADMIN_TOKEN: z
      .string()
      .optional()
      .transform((value) => (value ? value : undefined))
      .refine((value) => value === undefined || value.length >= 16, {
        message: 'must be at least 16 characters',
      }),
    CACHE_TTL_JITTER: z.coerce.number().min(0).max(0.5).default(0.1),
    NEGATIVE_TTL_SECONDS: z.coerce.number().int().min(0).max(3_600).default(10),
    FILL_LEASE_MS: positiveInt.max(60_000).default(1_000),
    REDIS_BREAKER_THRESHOLD: positiveInt.max(1_000).default(3),
    REDIS_BREAKER_COOLDOWN_MS: positiveInt.max(60_000).default(1_000),
    MONGO_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
    REDIS_TIMEOUT_MS: positiveInt.max(60_000).default(500),
    HEALTH_INTERVAL_MS: positiveInt.max(60_000).default(1_000),
    SHUTDOWN_GRACE_MS: positiveInt.max(600_000).default(10_000),
    SEED_IF_EMPTY: flag,
    TRENDING_BUCKET_SECONDS: positiveInt.max(3_600).default(5),
    VIEW_FLUSH_MS: positiveInt.max(10_000).default(100),
    GRPC_TLS_CERT: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined)),
    GRPC_TLS_KEY: z
      .string()
      .optional()
      .transform((v) => (v ? v : undefined)),
    CACHE_ENABLED: flag,
    CACHE_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
    CACHE_SOFT_TIMEOUT_MS: positiveInt.max(60_000).default(250),
    REFRESH_AHEAD: z.enum(['xfetch', 'fraction', 'off']).default('fraction'),
    REFRESH_AHEAD_BETA: z.coerce.number().positive().max(100).default(1),
    REFRESH_AHEAD_FRACTION: z.coerce.number().positive().max(0.9).default(0.1),
    NEAR_CACHE: z.enum(['on', 'off']).default('on'),
    NEAR_CACHE_MAX_ENTRIES: positiveInt.max(10_000_000).default(10_000),
    NEAR_CACHE_MAX_MB: positiveInt.max(16_384).default(64),
    NEAR_CACHE_TTL_MS: positiveInt.max(86_400_000).default(10_000),
    NEAR_CACHE_LEASE_MS: positiveInt.min(50).max(60_000).default(500),
    METRICS_PORT: port.default(9464),
    LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.GRPC_TLS_CERT) !== Boolean(env.GRPC_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['GRPC_TLS_CERT'],
        message: 'and GRPC_TLS_KEY must be set together',
      });
    }
    for (const name of ['GRPC_TLS_CERT', 'GRPC_TLS_KEY'] as const) {
      const file = env[name];
      if (file && !existsSync(file))
        ctx.addIssue({ code: 'custom', path: [name], message: `file not found: ${file}` });
    }
    if (env.REDIS_URL && env.REDIS_CLUSTER_NODES)
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'or REDIS_CLUSTER_NODES: not both',
      });
    if (env.NODE_ENV === 'production' && !env.ADMIN_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKEN'],
        message: 'is required when NODE_ENV=production',
      });
    }
  });

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  grpc: { host: string; port: number; tls?: { certFile: string; keyFile: string } };
  /** Absent: the embedded stack (redis-server + FerretDB) is started. */
  mongoUri?: string;
  /** With redisCluster: its first seed node (the embedded stack is then not started). */
  redisUrl?: string;
  /** REDIS_CLUSTER_NODES: every Redis client is a cluster client. */
  redisCluster?: RedisClusterConfig;
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
  /** Prometheus /metrics over HTTP; 0 picks a free port. */
  metricsPort: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

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
  return {
    env: e.NODE_ENV,
    grpc: {
      host: e.GRPC_HOST,
      port: e.GRPC_PORT,
      tls:
        e.GRPC_TLS_CERT && e.GRPC_TLS_KEY
          ? { certFile: e.GRPC_TLS_CERT, keyFile: e.GRPC_TLS_KEY }
          : undefined,
    },
    mongoUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL ?? (e.REDIS_CLUSTER_NODES && firstNodeUrl(e.REDIS_CLUSTER_NODES)),
    redisCluster: e.REDIS_CLUSTER_NODES,
    dataDir: e.DATA_DIR,
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    cacheTtlJitter: e.CACHE_TTL_JITTER,
    negativeTtlSeconds: e.NEGATIVE_TTL_SECONDS,
    fillLeaseMs: e.FILL_LEASE_MS,
    redisBreakerThreshold: e.REDIS_BREAKER_THRESHOLD,
    redisBreakerCooldownMs: e.REDIS_BREAKER_COOLDOWN_MS,
    adminToken: e.ADMIN_TOKEN,
    mongoTimeoutMs: e.MONGO_TIMEOUT_MS,
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
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
