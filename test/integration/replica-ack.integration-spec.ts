import Redis, { Cluster } from 'ioredis';
import { firstNodeUrl, parseClusterNodes } from '../../src/config/redis-cluster-nodes';
import { REPLICA_WAIT_MS, ReplicaAck } from '../../src/redis/replica-ack';
import { createRedisClient } from '../../src/redis/redis-connection';
import { startRedisCluster, type RedisClusterStack } from '../../src/stack/redis-cluster';
import { startRedisReplication, type RedisReplicationStack } from '../support/redis-replication';
import { tempDir } from '../support/temp-dir';
import { testConfig } from '../support/test-env';
import { until } from '../support/wait';

describe(`${ReplicaAck.name} on a Redis Cluster of its own`, () => {
  let cluster: RedisClusterStack;
  let client: Cluster;
  let sut: ReplicaAck;
  const key = 'fence:{replica-ack}';

  beforeAll(async () => {
    cluster = await startRedisCluster(tempDir('movie-cache-replica-ack-'));
    const seeds = parseClusterNodes(cluster.seeds);
    const config = { ...testConfig(), redisCluster: seeds, redisUrl: firstNodeUrl(seeds) };
    client = createRedisClient(config) as Cluster;
    sut = new ReplicaAck(client, config);
    sut.onModuleInit();
    // The slot map lists the replica once the cluster has told every node about it.
    await until(async () => {
      client.refreshSlotsCache();
      return (client.slots[await client.cluster('KEYSLOT', key)]?.length ?? 0) === 2;
    });
  }, 60_000);
  afterAll(async () => {
    await sut.onApplicationShutdown();
    client.disconnect();
    await cluster.stop();
  });

  it('confirms a write once the replica of its slot has it', async () => {
    await client.set(key, 'g:1', 'EX', 30);

    expect(await sut.confirm(key, 30)).toBe(true);
  });

  it('does not confirm while the replica does not acknowledge, nor a key that is gone', async () => {
    await client.set(key, 'g:2', 'EX', 30);
    const slot = await client.cluster('KEYSLOT', key);
    // The client's slot map may not list the slot's replica yet.
    await until(async () => {
      client.refreshSlotsCache();
      return client.slots[slot]?.[1] !== undefined;
    });
    const replicaKey = client.slots[slot][1];
    const replica = cluster.nodes.find((node) => replicaKey.endsWith(`:${node.port}`))!;
    replica.signal('SIGSTOP');
    try {
      expect(await sut.confirm(key, 30)).toBe(false);
    } finally {
      replica.signal('SIGCONT');
    }
    await until(() => sut.confirm(key, 30));

    await client.del(key);
    expect(await sut.confirm(key, 30)).toBe(false);
  });
});

describe(`${ReplicaAck.name} on one endpoint: a master with a replica of its own`, () => {
  let replication: RedisReplicationStack;
  let client: Redis;
  let sut: ReplicaAck;
  const key = 'fence:{replica-ack}';

  beforeAll(async () => {
    replication = await startRedisReplication(tempDir('movie-cache-replica-ack-one-'));
    const config = {
      ...testConfig(),
      redisCluster: undefined,
      redisUrl: `redis://127.0.0.1:${replication.master.port}`,
    };
    client = createRedisClient(config) as Redis;
    sut = new ReplicaAck(client, config);
    sut.onModuleInit();
    await until(async () => (await client.ping()) === 'PONG');
  }, 60_000);
  afterAll(async () => {
    await sut.onApplicationShutdown();
    client.disconnect();
    await replication.stop();
  });

  it('confirms a write once the replica has it', async () => {
    await client.set(key, 'g:1', 'EX', 30);

    expect(await sut.confirm(key, 30)).toBe(true);
  });

  it('does not confirm while the replica does not acknowledge (SIGSTOP), nor a key that is gone', async () => {
    // The replica attached (a busy machine can have it reconnecting: then there is none to wait
    // for), then stopped before the write, which it could otherwise acknowledge first.
    await until(async () => {
      const [, , replicas] = (await client.role()) as [string, number, unknown[]];
      return replicas.length > 0;
    });
    replication.replica.signal('SIGSTOP');
    try {
      await client.set(key, 'g:2', 'EX', 30);
      expect(await sut.confirm(key, 30)).toBe(false);
    } finally {
      replication.replica.signal('SIGCONT');
    }
    await until(() => sut.confirm(key, 30));

    await client.del(key);
    expect(await sut.confirm(key, 30)).toBe(false);
  });

  it('confirms at once with no replica attached: no failover can promote one that lacks the write', async () => {
    await replication.replica.stop();
    await until(
      async () => ((await client.call('ROLE')) as [string, number, unknown[]])[2].length === 0,
    );
    await client.set(key, 'g:3', 'EX', 30);

    const started = performance.now();
    expect(await sut.confirm(key, 30)).toBe(true);
    expect(performance.now() - started).toBeLessThan(REPLICA_WAIT_MS);
  });
});
