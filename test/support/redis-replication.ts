import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startChildService, type ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { freePort } from '../../src/stack/free-port';
import { tcpRelay, type TcpRelay } from './tcp-relay';
import { sleep } from './wait';

export interface RedisReplicationOptions {
  /** Also run one redis-sentinel watching the master (quorum 1). */
  sentinel?: boolean;
  /** down-after-milliseconds: how long the master may be silent before Sentinel fails it over. */
  downAfterMs?: number;
}

export interface RedisReplicationStack {
  /** The master group name Sentinel knows. */
  name: string;
  master: ChildService;
  replica: ChildService;
  /** The replica's link to the master: frozen, the master's writes no longer reach it. */
  link: TcpRelay;
  /** REDIS_SENTINELS for this group (with `sentinel: true`). */
  sentinels?: string;
  /** The port Sentinel names as the master now. */
  masterPort(): Promise<number>;
  /** Resolves once the replica is in sync and, with Sentinel, Sentinel knows it as promotable. */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A Redis command on a fresh connection to `port`, closed after. */
export async function askRedis<T>(port: number, command: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await command(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * A master and its replica (`redis-server --replicaof`, through a relay that can hold the
 * replication stream) on free ports and, optionally, a Sentinel (`redis-server <conf> --sentinel`,
 * what Debian's redis-sentinel package runs) that fails the master over.
 */
export async function startRedisReplication(
  dataDir: string,
  options: RedisReplicationOptions = {},
): Promise<RedisReplicationStack> {
  const name = 'mymaster';
  const master = await startRedisServer(dataDir, undefined, [], 'redis-master');
  // A replica paused (SIGSTOP) still gets what the kernel buffered for it: a relay holds it back.
  const link = await tcpRelay({ host: '127.0.0.1', port: master.port });
  await link.open();
  const replicaArgs = ['--replicaof', '127.0.0.1', String(link.port)];
  const replica = await startRedisServer(dataDir, undefined, replicaArgs, 'redis-replica');
  const sentinel = options.sentinel
    ? await startSentinel(dataDir, name, master.port, options.downAfterMs ?? 1_000)
    : undefined;
  const stack: RedisReplicationStack = {
    name,
    master,
    replica,
    link,
    sentinels: sentinel && `127.0.0.1:${sentinel.port}`,
    masterPort: async () => {
      if (!sentinel) return master.port;
      const reply = (await askRedis(sentinel.port, (r) =>
        r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name),
      )) as [string, string];
      return Number(reply[1]);
    },
    settled: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await isSettled(replica.port, name, sentinel?.port).catch(() => false))) {
        if (Date.now() > deadline) throw new Error('the Redis replica did not settle');
        await sleep(100);
      }
    },
    stop: async () => {
      await Promise.all([sentinel?.stop(), replica.stop(), master.stop(), link.close()]);
    },
  };
  await stack.settled();
  return stack;
}

async function startSentinel(
  dataDir: string,
  name: string,
  masterPort: number,
  downAfterMs: number,
): Promise<ChildService> {
  const port = await freePort();
  // Sentinel rewrites its configuration file as it learns: one of its own.
  const conf = join(dataDir, `sentinel-${port}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dataDir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      // Also how long before Sentinel points the replica at the master itself, past the relay.
      `sentinel failover-timeout ${name} 120000`,
      '',
    ].join('\n'),
  );
  return startChildService({
    name: 'redis-sentinel',
    command: 'redis-server',
    args: [conf, '--sentinel'],
    port,
    logDir: join(dataDir, 'logs'),
    probe: () => askRedis(port, (r) => r.ping()).then((pong) => pong === 'PONG'),
  });
}

/** The replica's link is up and, with Sentinel, Sentinel lists it as a replica in good standing. */
async function isSettled(
  replicaPort: number,
  name: string,
  sentinelPort?: number,
): Promise<boolean> {
  const replication = await askRedis(replicaPort, (r) => r.info('replication'));
  if (!/master_link_status:up/.test(replication)) return false;
  if (sentinelPort === undefined) return true;
  const replicas = (await askRedis(sentinelPort, (r) =>
    r.call('SENTINEL', 'REPLICAS', name),
  )) as string[][];
  return replicas.some((fields) => {
    const info = Object.fromEntries(
      fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : [])),
    ) as Record<string, string>;
    return (
      Number(info.port) === replicaPort &&
      info.flags === 'slave' &&
      info['master-link-status'] === 'ok'
    );
  });
}
