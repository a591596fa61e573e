import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { absentKey, fenceKey, titleTag } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';
import { newGeneration } from './movie-cache.store';

// KEYS: absent marker, fence. ARGV: the fence the miss saw, ttl. A write since then (the
// fence moved or was lost) means the movie may exist now: nothing is remembered.
const REMEMBER_ABSENT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
return 1`;

// KEYS: a title's fence and its absence markers. ARGV: fence ttl, new generation.
// Counts one more write of a movie with this title and forgets the title's absences.
const TITLE_WRITTEN = `
local fence = redis.call('GET', KEYS[1])
local generation, writes = ARGV[2], 1
if fence then
  generation = string.match(fence, '^[^:]*')
  writes = tonumber(string.match(fence, ':(.*)$')) + 1
end
redis.call('SET', KEYS[1], generation .. ':' .. writes, 'EX', ARGV[1])
redis.call('DEL', unpack(KEYS, 2))
return 1`;

/** Lookups known to find no movie, remembered for NEGATIVE_TTL_SECONDS unless a write intervenes. */
@Injectable()
export class NegativeCache {
  private readonly scripts: Redis & {
    rememberAbsent(...keysAndArgs: string[]): Promise<number>;
    titleWritten(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  };

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    redis.client.defineCommand('rememberAbsent', { numberOfKeys: 2, lua: REMEMBER_ABSENT });
    redis.client.defineCommand('titleWritten', { lua: TITLE_WRITTEN });
    this.scripts = redis.client as typeof this.scripts;
  }

  /** Remembers the lookup as absent if its fence is still the one the miss saw; true if stored. */
  async remember(tag: string, year: number | undefined, fence: string): Promise<boolean> {
    if (this.config.negativeTtlSeconds === 0) return false;
    const stored = await this.redis.run('cache', () =>
      this.scripts.rememberAbsent(
        absentKey(tag, year),
        fenceKey(tag),
        fence,
        String(this.config.negativeTtlSeconds),
      ),
    );
    return stored === 1;
  }

  async isAbsent(tag: string, year?: number): Promise<boolean> {
    return (await this.redis.run('cache', (redis) => redis.exists(absentKey(tag, year)))) === 1;
  }

  /** Write-through of a movie: its title (with and without its year) is no longer absent. */
  async titleWritten(title: string, year: number): Promise<void> {
    const tag = titleTag(title);
    const keys = [fenceKey(tag), absentKey(tag), absentKey(tag, year)];
    await this.redis.run('cache', () =>
      this.scripts.titleWritten(
        keys.length,
        ...keys,
        String(this.ttl.fenceSeconds),
        newGeneration(),
      ),
    );
  }
}
