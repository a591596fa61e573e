import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { sleep } from '../common/sleep';
import type { ChildService } from './child-service';
import { startRedisServer } from './embedded-stack';
import { freePort } from './free-port';

const run = promisify(execFile);

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a master may be silent before its replica takes over. */
  nodeTimeoutMs?: number;
  /** requirepass and masterauth of every node. */
  password?: string;
}

export interface RedisClusterStack {
  /** REDIS_CLUSTER_NODES for this cluster (every node, as seeds). */
  seeds: string;
  nodes: ChildService[];
  /** The node serving `key` as master now. */
  masterOf(key: string): Promise<ChildService>;
  /** Starts a stopped or killed node again on its port; it rejoins (as a replica, after a failover). */
  restart(node: ChildService): Promise<ChildService>;
  /** Resolves once every slot is served and every replica is in sync with its master. */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A local Redis Cluster (3 masters + 1 replica each by default) from the redis-server binary:
 * the nodes on free ports with their cluster bus on other free ports, then
 * `redis-cli --cluster create`. Each node keeps its nodes.conf in its own directory.
 */
export async function startRedisCluster(
  dataDir: string,
  options: RedisClusterOptions = {},
): Promise<RedisClusterStack> {
  const { masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 1_000, password } = options;
  const ports = await distinctFreePorts(2 * masters * (1 + replicasPerMaster));
  const specs = ports.slice(0, ports.length / 2).map((port, i) => ({
    port,
    name: `redis-cluster-${i}`,
    args: [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-node-timeout', String(nodeTimeoutMs)],
      ...['--cluster-port', String(ports[ports.length / 2 + i])],
      ...(password ? ['--requirepass', password, '--masterauth', password] : []),
    ],
  }));
  const start = (spec: (typeof specs)[number]) =>
    startRedisServer(dataDir, spec.port, spec.args, spec.name);
  const nodes = await Promise.all(specs.map(start));
  const auth = password ? ['-a', password, '--no-auth-warning'] : [];
  await run('redis-cli', [
    ...auth,
    '--cluster',
    'create',
    ...ports.slice(0, nodes.length).map((port) => `127.0.0.1:${port}`),
    ...['--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
  ]);
  const admin = (port: number) =>
    new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, retryStrategy: () => null });
  const ask = async <T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = admin(port);
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await command(redis);
    } finally {
      redis.disconnect();
    }
  };
  const anyAnswer = async <T>(command: (redis: Redis) => Promise<T>): Promise<T> => {
    for (const node of nodes) {
      const answer = await ask(node.port, command).catch(() => undefined);
      if (answer !== undefined) return answer;
    }
    throw new Error('no cluster node answers');
  };
  const stack: RedisClusterStack = {
    seeds: ports
      .slice(0, nodes.length)
      .map((port) => `127.0.0.1:${port}`)
      .join(','),
    nodes,
    masterOf: async (key) => {
      const slot = await anyAnswer((r) => r.cluster('KEYSLOT', key));
      const ranges = await anyAnswer((r) => r.cluster('SLOTS'));
      const range = ranges.find(([from, to]) => from <= slot && slot <= to);
      const node = nodes.find((n) => n.port === range?.[2]?.[1]);
      if (!node) throw new Error(`no master serves slot ${slot}`);
      return node;
    },
    restart: async (node) => {
      const i = nodes.indexOf(node);
      await node.stop();
      nodes[i] = await start(specs[i]);
      return nodes[i];
    },
    settled: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await isSettled(nodes, masters, ask).catch(() => false))) {
        if (Date.now() > deadline) throw new Error('the Redis Cluster did not settle');
        await sleep(100);
      }
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
  await stack.settled();
  return stack;
}

/** Every node that answers sees state ok with every slot served, and every replica is in sync. */
async function isSettled(
  nodes: ChildService[],
  masters: number,
  ask: <T>(port: number, command: (redis: Redis) => Promise<T>) => Promise<T>,
): Promise<boolean> {
  for (const node of nodes) {
    const info = await ask(node.port, (r) => r.cluster('INFO')).catch(() => undefined);
    if (info === undefined) continue;
    if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
    if (!new RegExp(`cluster_size:${masters}\\b`).test(info)) return false;
    const replication = await ask(node.port, (r) => r.info('replication'));
    if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
  }
  return true;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
