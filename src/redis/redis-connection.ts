import { Logger } from '@nestjs/common';
import Redis, { type Cluster, type RedisOptions } from 'ioredis';
import { SlotAwareCluster } from './slot-aware-cluster';
import { watchReplies } from './reply-watchdog';
import type { ResolvedAppConfig } from '../config/app-config';
import type { RedisClusterConfig } from '../config/redis-cluster-nodes';
import type { RedisSentinelConfig } from '../config/redis-sentinels';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/**
 * One Redis server (REDIS_URL), the master of a Sentinel group (REDIS_SENTINELS), or a Redis
 * Cluster (REDIS_CLUSTER_NODES): the same command API.
 */
export type RedisClient = Redis | Cluster;

/** Options of every connection to one node: a server, or each node of a cluster. */
function nodeOptions(config: ResolvedAppConfig): Omit<RedisOptions, 'replyMapping'> {
  return {
    connectionName: 'movie-cache',
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(config.redisTimeoutMs * 4, 1_000),
  };
}

const retry = (attempt: number) => Math.min(attempt * 100, 1_000);

/** Options of the one connection to a server: REDIS_URL's, or the master Sentinel names. */
function serverOptions(config: ResolvedAppConfig): Omit<RedisOptions, 'replyMapping'> {
  return {
    ...nodeOptions(config),
    enableOfflineQueue: false,
    // Commands issued in the same tick share one socket write: far fewer syscalls under load.
    enableAutoPipelining: true,
    retryStrategy: retry,
  };
}

function clusterClient(config: ResolvedAppConfig, cluster: RedisClusterConfig): Cluster {
  return new SlotAwareCluster(cluster.nodes, {
    // Fail fast while no node answers, so reads fall back to MongoDB instead of queueing.
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: retry,
    // Reads and scripts go to masters only: a replica may lag behind a write and its fence.
    scaleReads: 'master',
    // A moved slot or a failover is followed within these; RedisCircuit bounds the wait.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: Math.max(config.redisTimeoutMs, 1_000),
    // TLS certificates name hosts: keep the names the cluster announces.
    dnsLookup: cluster.tls ? (address, done) => done(null, address) : undefined,
    redisOptions: {
      ...nodeOptions(config),
      // A node's connections are made and replaced inside ioredis: each keeps its command timers.
      commandTimeout: config.redisTimeoutMs,
      username: cluster.username,
      password: cluster.password,
      tls: cluster.tls ? {} : undefined,
    },
  });
}

/** Asks the sentinels for the master on every (re)connection; ioredis checks its ROLE too. */
function sentinelClient(config: ResolvedAppConfig, sentinel: RedisSentinelConfig): Redis {
  return new Redis({
    ...serverOptions(config),
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    sentinelRetryStrategy: retry,
    sentinelCommandTimeout: config.redisTimeoutMs,
    // No failoverDetector: a +switch-master heard while reconnecting can leave the client closed
    // for good (ioredis 6.0). Sentinel closes a demoted master's clients; a dead one's close anyway.
    username: sentinel.username,
    password: sentinel.password,
    db: sentinel.db,
    tls: sentinel.tls ? {} : undefined,
    enableTLSForSentinelMode: sentinel.tls,
  });
}

const replyTimeouts = new WeakMap<Redis, number>();

/**
 * Options of a low-traffic connection of its own beside a server's client (a duplicate): its
 * replies bounded by a timer per command, where the client's one connection has a watchdog.
 */
export const duplicateOptions = (client: Redis): RedisOptions => ({
  commandTimeout: replyTimeouts.get(client) ?? client.options.commandTimeout,
});

/** The one Redis connection: cache-manager's store and every raw command share it. */
export function createRedisClient(config: ResolvedAppConfig): RedisClient {
  const logger = new Logger('Redis');
  let client: RedisClient;
  if (config.redisCluster) client = clusterClient(config, config.redisCluster);
  else {
    const server = config.redisSentinel
      ? sentinelClient(config, config.redisSentinel)
      : new Redis(config.redisUrl, serverOptions(config));
    server.once('end', watchReplies(server, config.redisTimeoutMs));
    replyTimeouts.set(server, config.redisTimeoutMs);
    client = server;
  }
  let lastError = '';
  client.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn(`connection error: ${error.message}`);
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) logger.log('connection restored');
    lastError = '';
  });
  return client;
}

/** Resolves once the client is ready, or after timeoutMs (the service then starts degraded). */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    }
    client.on('ready', onReady);
  });
}
