import Redis, { Cluster } from 'ioredis';

/** Reads a command's keys whether passed spread or as one array. */
const keysOf = (args: unknown[]) => args.flat() as string[];

/** Sums `calls=` per command over the masters' INFO commandstats. */
function mergeCommandStats(infos: string[]): string {
  const calls = new Map<string, number>();
  for (const info of infos)
    for (const [, name, n] of info.matchAll(/^(cmdstat_[^:]+):calls=(\d+)/gm))
      calls.set(name, (calls.get(name) ?? 0) + Number(n));
  return ['# Commandstats', ...[...calls].map(([name, n]) => `${name}:calls=${n}`)].join('\r\n');
}

/**
 * A test's view of a Redis Cluster with the API the specs use on one server: commands that
 * address the whole server (FLUSHDB, KEYS, INFO, CONFIG, CLIENT) run on every master, and
 * multi-key DEL/EXISTS/MGET run key by key, since the keys live in different slots.
 */
export function clusterInspector(seeds: string): Redis {
  const nodes = seeds.split(',').map((seed) => {
    const at = seed.lastIndexOf(':');
    return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
  });
  const cluster = new Cluster(nodes, { lazyConnect: true });
  cluster.on('error', () => undefined);
  const masters = async () => {
    if (cluster.status === 'wait') await cluster.connect();
    return cluster.nodes('master');
  };
  const everyMaster = async <T>(command: (node: Redis) => Promise<T>) =>
    Promise.all((await masters()).map(command));
  const overrides: Record<string, (...args: unknown[]) => Promise<unknown>> = {
    flushdb: async () => (await everyMaster((node) => node.flushdb()), 'OK'),
    keys: async (pattern) => (await everyMaster((node) => node.keys(String(pattern)))).flat(),
    del: async (...args) =>
      (await Promise.all(keysOf(args).map((key) => cluster.del(key)))).reduce((a, b) => a + b, 0),
    exists: async (...args) =>
      (await Promise.all(keysOf(args).map((key) => cluster.exists(key)))).reduce(
        (a, b) => a + b,
        0,
      ),
    mget: async (...args) => Promise.all(keysOf(args).map((key) => cluster.get(key))),
    config: async (...args) =>
      (await everyMaster((node) => node.call('CONFIG', ...(args as string[]))))[0],
    info: async (section) => {
      const infos = await everyMaster((node) => node.info(String(section ?? '')));
      return section === 'commandstats' ? mergeCommandStats(infos) : infos.join('\r\n');
    },
    call: async (...args) => {
      const [command, ...rest] = args as string[];
      if (command.toUpperCase() !== 'CLIENT') return cluster.call(command, ...rest);
      const replies = await everyMaster((node) => node.call(command, ...rest).catch(() => null));
      const reply = replies.find((r) => r !== null);
      if (reply === undefined)
        throw new Error(`${command} ${rest.join(' ')} failed on every master`);
      return command.toUpperCase() === 'CLIENT' && rest[0]?.toUpperCase() === 'LIST'
        ? replies.filter(Boolean).join('\n')
        : reply;
    },
    duplicate: async () => clusterInspector(seeds),
  };
  return new Proxy(cluster, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in overrides) {
        return property === 'duplicate' ? () => clusterInspector(seeds) : overrides[property];
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  }) as unknown as Redis;
}
