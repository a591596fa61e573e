import { Cluster, type RedisKey } from 'ioredis';

/**
 * ioredis's Cluster, so code written for one server runs unchanged: a script whose key count is
 * its first argument skips auto-pipelining (ioredis would route by the count), and a DEL across
 * slots deletes key by key (then not atomically).
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
