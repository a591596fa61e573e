import { Cluster, type RedisKey } from 'ioredis';

/**
 * ioredis's Cluster with two adaptations, so code written for one Redis server runs unchanged:
 * - A script defined without a fixed key count (the count is its first argument) skips
 *   auto-pipelining: ioredis would route its batch by that count instead of by its keys.
 * - DEL of keys in several slots deletes them one by one (auto-pipelined per node), where one
 *   server would take them in one command; it is then not atomic.
 */
export class SlotAwareCluster extends Cluster {
  override defineCommand(
    name: string,
    definition: { lua: string; numberOfKeys?: number; readOnly?: boolean },
  ): void {
    if (definition.numberOfKeys === undefined)
      (this.options.autoPipeliningIgnoredCommands ??= []).push(name);
    super.defineCommand(name, definition);
  }

  override async del(...args: unknown[]): Promise<number> {
    const keys = args.flat() as RedisKey[];
    if (keys.length === 1) return super.del(keys[0]);
    const deleted = await Promise.all(keys.map((key) => super.del(key)));
    return deleted.reduce((sum, n) => sum + n, 0);
  }
}
