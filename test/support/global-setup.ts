import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildService } from '../../src/stack/child-service';
import {
  startEmbeddedStack,
  startRedisServer,
  type EmbeddedStack,
} from '../../src/stack/embedded-stack';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';

declare global {
  var __MOVIE_CACHE_STACK__:
    | {
        stack: EmbeddedStack;
        cluster?: RedisClusterStack;
        workerRedis: ChildService[];
        dataDir: string;
      }
    | undefined;
}

/**
 * Real redis-server and FerretDB on free ports for the whole run, unless URLs are given. With
 * TEST_REDIS_CLUSTER=1 (npm run test:cluster) Redis is a local 3-master + 3-replica Redis Cluster.
 * With TEST_WORKERS > 1 each Jest worker gets a redis-server of its own (specs flush Redis, and
 * pub/sub spans databases); MongoDB is shared, each spec on databases of its own.
 */
export default async function globalSetup(): Promise<void> {
  const mongoUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  const clustered = process.env.TEST_REDIS_CLUSTER === '1';
  const dataDir = mkdtempSync(join(tmpdir(), 'movie-cache-test-'));
  const embeddedRedis = !redisUrl && !clustered;
  const workers = embeddedRedis ? Math.max(1, Number(process.env.TEST_WORKERS ?? 1)) : 1;
  const [stack, cluster, ...workerRedis] = await Promise.all([
    startEmbeddedStack({ dataDir, redis: embeddedRedis, mongo: !mongoUri }),
    clustered ? startRedisCluster(dataDir) : undefined,
    ...Array.from({ length: workers - 1 }, (_, i) =>
      startRedisServer(dataDir, undefined, [], `redis-worker-${i + 2}`),
    ),
  ]);
  globalThis.__MOVIE_CACHE_STACK__ = {
    stack,
    cluster,
    workerRedis: workerRedis as ChildService[],
    dataDir,
  };
  (workerRedis as ChildService[]).forEach((redis, i) => {
    process.env[`TEST_REDIS_URL_${i + 2}`] = `redis://127.0.0.1:${redis.port}`;
  });
  process.env.TEST_MONGODB_URI = mongoUri ?? stack.mongoUri;
  process.env.TEST_EMBEDDED_MONGO = mongoUri ? '' : '1';
  if (stack.postgresUrl) process.env.TEST_POSTGRES_URL = stack.postgresUrl;
  if (cluster) {
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.seeds;
    process.env.TEST_REDIS_URL = `redis://${cluster.seeds.split(',')[0]}`;
  } else process.env.TEST_REDIS_URL = redisUrl ?? stack.redisUrl;
}
