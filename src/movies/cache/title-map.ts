import { Inject, Injectable } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CachePolicy } from './cache-policy';

/**
 * Title (and year) -> movie id, kept through CACHE_MANAGER: a plain key/value entry with a TTL,
 * which is what cache-manager is for. Hashes, scripts and sorted sets use raw commands.
 */
@Injectable()
export class TitleMap {
  constructor(
    @Inject(CACHE_MANAGER) private readonly cacheManager: Cache,
    private readonly redis: RedisCircuit,
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

  async remember(key: string, id: string): Promise<void> {
    const ttlMs = this.policy.jitteredTtlSeconds() * 1000;
    await this.redis.run('cache', () => this.cacheManager.set(key, id, ttlMs));
  }
}
