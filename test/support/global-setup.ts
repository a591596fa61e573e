import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack, type EmbeddedStack } from '../../src/stack/embedded-stack';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';

declare global {
  var __MOVIE_CACHE_STACK__:
    { stack: EmbeddedStack; cluster?: RedisClusterStack; dataDir: string } | undefined;
}

/**
 * Real redis-server and FerretDB on free ports for the whole run, unless URLs are given. With
 * TEST_REDIS_CLUSTER=1 (npm run test:cluster) Redis is a local 3-master + 3-replica Redis Cluster.
 */
export default async function globalSetup(): Promise<void> {
  const mongoUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  const clustered = process.env.TEST_REDIS_CLUSTER === '1';
  const dataDir = mkdtempSync(join(tmpdir(), 'movie-cache-test-'));
  const [stack, cluster] = await Promise.all([
    startEmbeddedStack({ dataDir, redis: !redisUrl && !clustered, mongo: !mongoUri }),
    clustered ? startRedisCluster(dataDir) : undefined,
  ]);
  globalThis.__MOVIE_CACHE_STACK__ = { stack, cluster, dataDir };
  process.env.TEST_MONGODB_URI = mongoUri ?? stack.mongoUri;
  process.env.TEST_EMBEDDED_MONGO = mongoUri ? '' : '1';
  if (stack.postgresUrl) process.env.TEST_POSTGRES_URL = stack.postgresUrl;
  if (cluster) {
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.seeds;
    process.env.TEST_REDIS_URL = `redis://${cluster.seeds.split(',')[0]}`;
  } else process.env.TEST_REDIS_URL = redisUrl ?? stack.redisUrl;
}
