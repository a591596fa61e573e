import { existsSync } from 'node:fs';
import { z } from 'zod';
import { consistencyHorizons } from './consistency-horizons';
import { redisClusterNodes } from './redis-cluster-nodes';
import { redisSentinelName, redisSentinels } from './redis-sentinels';
import { trustedProxies } from './trusted-proxies';

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
/** Unset or empty: undefined. */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) =>
    value === undefined || value === '' ? undefined : ['true', '1'].includes(value),
  );

/** Every environment variable the service reads, validated; docs/configuration.md's table. */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    GRPC_HOST: z.string().min(1).default('0.0.0.0'),
    GRPC_PORT: port.default(50051),
    MONGODB_URI: optionalUrl(['mongodb://', 'mongodb+srv://']),
    REDIS_URL: optionalUrl(['redis://', 'rediss://']),
    REDIS_CLUSTER_NODES: redisClusterNodes,
    REDIS_SENTINELS: redisSentinels,
    REDIS_SENTINEL_NAME: redisSentinelName,
    DATA_DIR: z.string().min(1).default('.data'),
    CACHE_TTL_SECONDS: positiveInt.max(86_400 * 30).default(60),
    PROTECTED_MODE: z.enum(['on', 'off']).default('on'),
    TRENDING_MAX_STREAMS: positiveInt.max(1_000_000).default(1_000),
    TRENDING_MAX_STREAMS_PER_PEER: positiveInt.max(1_000_000).default(32),
    TRUSTED_PROXIES: trustedProxies,
    GRPC_MAX_CONCURRENT_STREAMS: positiveInt.max(1_000_000).default(1_000),
    GRPC_IDLE_TIMEOUT_MS: positiveInt.max(86_400_000).default(300_000),
    GRPC_MIN_PING_INTERVAL_MS: positiveInt.max(3_600_000).default(10_000),
    ADMIN_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 16, {
      message: 'must be at least 16 characters',
    }),
    CACHE_TTL_JITTER: z.coerce.number().min(0).max(0.5).default(0.1),
    NEGATIVE_TTL_SECONDS: z.coerce.number().int().min(0).max(3_600).default(10),
    FILL_LEASE_MS: positiveInt.max(60_000).default(1_000),
    REDIS_BREAKER_THRESHOLD: positiveInt.max(1_000).default(3),
    REDIS_BREAKER_COOLDOWN_MS: positiveInt.max(60_000).default(1_000),
    MONGO_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
    MONGO_MAX_READS: positiveInt.max(10_000).default(64),
    REDIS_TIMEOUT_MS: positiveInt.max(60_000).default(500),
    HEALTH_INTERVAL_MS: positiveInt.max(60_000).default(1_000),
    SHUTDOWN_GRACE_MS: positiveInt.max(600_000).default(10_000),
    SEED_IF_EMPTY: flag,
    TRENDING_BUCKET_SECONDS: positiveInt.max(3_600).default(5),
    VIEW_FLUSH_MS: positiveInt.max(10_000).default(100),
    GRPC_TLS_CERT: optionalString,
    GRPC_TLS_KEY: optionalString,
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
    CHANGE_FEED: z.enum(['auto', 'mongodb', 'postgres', 'off']).default('auto'),
    CHANGE_FEED_POSTGRES_URL: optionalUrl(['postgres://', 'postgresql://']),
    CHANGE_FEED_LEASE_MS: positiveInt.min(100).max(60_000).default(2_000),
    CHANGE_FEED_RETENTION_HOURS: positiveInt.max(24 * 30).default(24),
    CONSISTENCY_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.01),
    CONSISTENCY_MAX_PER_SECOND: positiveInt.max(10_000).default(5),
    CONSISTENCY_HORIZONS: consistencyHorizons,
    CONSISTENCY_HEAL: z.enum(['on', 'off']).default('on'),
    METRICS_PORT: port.default(9464),
    LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
    // OpenTelemetry's own variables; the SDK reads them, they are checked here to fail at boot.
    OTEL_SDK_DISABLED: flag,
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http://', 'https://']),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl(['http://', 'https://']),
    OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
    OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
    OTEL_TRACES_SAMPLER: z
      .enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ])
      .default('parentbased_always_on'),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
    OTEL_SERVICE_NAME: z.string().trim().min(1).default('movie-cache'),
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
    if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES)
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_SENTINELS'],
        message: 'or REDIS_CLUSTER_NODES: not both',
      });
    if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS)
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_SENTINEL_NAME'],
        message: 'needs REDIS_SENTINELS',
      });
    if (env.CHANGE_FEED === 'postgres' && !env.CHANGE_FEED_POSTGRES_URL && env.MONGODB_URI)
      ctx.addIssue({
        code: 'custom',
        path: ['CHANGE_FEED_POSTGRES_URL'],
        message: 'is required with CHANGE_FEED=postgres and a MONGODB_URI',
      });
    if (env.NODE_ENV === 'production' && !env.ADMIN_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_TOKEN'],
        message: 'is required when NODE_ENV=production',
      });
    }
  });
