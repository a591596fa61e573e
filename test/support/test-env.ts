import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig, type ResolvedAppConfig } from '../../src/config/app-config';
import { clusterInspector } from './cluster-inspector';

/** Seeds of the Redis Cluster the run uses (npm run test:cluster), else undefined. */
export const testClusterNodes = (): string | undefined => process.env.TEST_REDIS_CLUSTER_NODES;

/** The shared test servers, from the global setup: this Jest worker's Redis, where it has one. */
export function testServers(): { mongoUri: string; redisUrl: string } {
  const mongoUri = process.env.TEST_MONGODB_URI;
  const worker = process.env.JEST_WORKER_ID;
  const redisUrl =
    (worker && process.env[`TEST_REDIS_URL_${worker}`]) || process.env.TEST_REDIS_URL;
  if (!mongoUri || !redisUrl)
    throw new Error('test servers missing: run through jest (global setup)');
  return { mongoUri, redisUrl };
}

/** A MongoDB URI naming a fresh database, so specs never see each other's data. */
export function isolatedMongoUri(baseUri: string): string {
  const url = new URL(baseUri);
  url.pathname = `/test_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

export function testConfig(env: Record<string, string> = {}): ResolvedAppConfig {
  const servers = testServers();
  const config = loadConfig({
    NODE_ENV: 'test',
    GRPC_HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    METRICS_PORT: '0',
    // The checker's reads, repairs and samples stay out of specs that count them; its own spec sets it.
    CONSISTENCY_SAMPLE_RATE: '0',
    MONGODB_URI: isolatedMongoUri(servers.mongoUri),
    // On the cluster run every app is a cluster client (REDIS_URL is then its first seed).
    ...(testClusterNodes()
      ? { REDIS_CLUSTER_NODES: testClusterNodes()! }
      : { REDIS_URL: servers.redisUrl }),
    ...env,
  });
  return config as ResolvedAppConfig;
}

/**
 * A plain client for inspecting Redis from tests; it connects on first use. On the cluster run,
 * the shared cluster (named by its first seed) is inspected through every master.
 */
export function inspectRedis(url: string): Redis {
  const cluster = testClusterNodes();
  if (cluster && url === testServers().redisUrl) return clusterInspector(cluster);
  const redis = new Redis(url, { lazyConnect: true });
  redis.on('error', () => undefined);
  return redis;
}
