import { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connection';

/** Every key matching `match` on every master, a page at a time (`each` awaited per page). */
export async function scanMasters(
  client: RedisClient,
  match: string,
  each: (keys: string[], node: RedisClient) => Promise<unknown>,
): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    for await (const keys of node.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await each(keys, node);
    }
  }
}
