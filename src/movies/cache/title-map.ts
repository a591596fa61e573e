import { Inject, Injectable } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { randomBytes } from 'node:crypto';
import { CACHE_MANAGER_NAMESPACE, fenceKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import { CachePolicy } from './cache-policy';

/** How CACHE_MANAGER stores `key` in Redis (keyv prefixes its namespace). */
const stored = (key: string) => `${CACHE_MANAGER_NAMESPACE}:${key}`;

/**
 * Title (and year) -> movie id, kept through CACHE_MANAGER: a plain key/value entry with a TTL,
 * which is what cache-manager is for. Hashes, scripts and sorted sets use raw commands. A new
 * entry is written under a key of its own and put in place only under the title's fence.
 */
@Injectable()
export class TitleMap {
  constructor(
    @Inject(CACHE_MANAGER) private readonly cacheManager: Cache,
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
  ) {}

  /** The movie id a title (and year) lookup resolved to before, if still cached (key: titleKey). */
  async resolve(key: string): Promise<string | undefined> {
    const id = await this.redis.run('cache', () => this.cacheManager.get<string>(key));
    return typeof id === 'string' ? id : undefined;
  }

  async forget(key: string): Promise<void> {
    await this.redis.run('cache', () => this.cacheManager.del(key));
  }

  /**
   * Remembers what a title miss that began at the title's fence `seen` (of tag `tag`) resolved
   * to, unless a write moved the title since, and ends the miss: its fill lease (`lease`, with the
   * token it holds, if any) is released in the same round trip. True if remembered.
   */
  async remember(
    key: string,
    id: string,
    tag: string,
    seen: string,
    lease: { key: string; token: string | null },
  ): Promise<boolean> {
    const ttlMs = this.policy.jitteredTtlSeconds() * 1000;
    const written = `${key}:new:${randomBytes(6).toString('base64url')}`;
    await this.redis.run('cache', () => this.cacheManager.set(written, id, ttlMs));
    const placed = await this.redis.run('cache', () =>
      this.scripts.rememberTitle(
        stored(written),
        stored(key),
        fenceKey(tag),
        lease.key,
        seen,
        lease.token ?? '',
      ),
    );
    return placed === 1;
  }
}
