import { Inject, Injectable } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DependencyUnavailableError } from '../common/errors';
import { MetricsService } from '../metrics/metrics.service';
import type { Movie } from '../generated/nest/movies/v1/movie_service';
import {
  STATS_BYPASSES_KEY,
  STATS_HITS_KEY,
  STATS_MISSES_KEY,
  SYSTEM_STATUS_KEY,
  TTL_SETTING_KEY,
  movieKey,
  titleKey,
} from './cache-keys';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';
import { REDIS_CLIENT } from './redis.module';

// Read and count the hit in one round trip.
const READ_MOVIE = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then redis.call('INCR', KEYS[2]) end
return hash`;

// Compare-and-set on revision: never replace a newer cached copy with an older one.
// ARGV: revision, ttl seconds, "1" to also replace an equal revision, then field/value pairs.
// An optional KEYS[2] counter is incremented either way.
const STORE_MOVIE = `
if KEYS[2] then redis.call('INCR', KEYS[2]) end
local current = redis.call('HGET', KEYS[1], 'revision')
if current then
  local cached, incoming = tonumber(current), tonumber(ARGV[1])
  if cached > incoming or (cached == incoming and ARGV[3] ~= '1') then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

interface MovieScripts {
  readMovie(key: string, hitsKey: string): Promise<string[]>;
  storeMovie(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
}

export interface CacheCounters {
  hits: number;
  misses: number;
  bypasses: number;
  ttlSeconds?: number;
  status?: string;
}

/** Movie copies, title mappings and counters in Redis. Every failure surfaces as DependencyUnavailableError('Redis'). */
@Injectable()
export class MovieCache {
  private readonly redis: Redis & MovieScripts;
  /** Bypasses counted while Redis was away, added to stats:bypasses once it is back. */
  private pendingBypasses = 0;

  constructor(
    @Inject(REDIS_CLIENT) redis: Redis,
    @Inject(CACHE_MANAGER) private readonly cacheManager: Cache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    redis.defineCommand('readMovie', { numberOfKeys: 2, lua: READ_MOVIE });
    redis.defineCommand('storeMovie', { lua: STORE_MOVIE });
    this.redis = redis as Redis & MovieScripts;
  }

  get ttlSeconds(): number {
    return this.config.cacheTtlSeconds;
  }

  /** The cached copy, counting a hit; null on a miss. */
  async readMovie(id: string): Promise<Movie | null> {
    const flat = await this.call(() => this.redis.readMovie(movieKey(id), STATS_HITS_KEY));
    if (flat.length === 0) return null;
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
    return decodeMovieHash(hash);
  }

  /** Cache-aside fill after a miss: stored unless the cache already holds this revision or newer. */
  async fillMovie(movie: Movie): Promise<boolean> {
    return this.store(movie, false, STATS_MISSES_KEY);
  }

  /** Write-through: installs this revision (resetting the TTL) unless a newer one is cached. */
  async writeThrough(movie: Movie): Promise<boolean> {
    await this.store(movie, true);
    return true;
  }

  async evictMovies(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1_000) {
      const keys = ids.slice(i, i + 1_000).map(movieKey);
      await this.call(() => this.redis.del(...keys));
    }
  }

  /** The movie id a title (and year) lookup resolved to before, if still cached. */
  async resolveTitle(title: string, year?: number): Promise<string | undefined> {
    const id = await this.call(() => this.cacheManager.get<string>(titleKey(title, year)));
    return typeof id === 'string' ? id : undefined;
  }

  async rememberTitle(title: string, year: number | undefined, id: string): Promise<void> {
    await this.call(() => this.cacheManager.set(titleKey(title, year), id, this.ttlSeconds * 1000));
  }

  recordBypass(): void {
    this.pendingBypasses += 1;
  }

  /** Called by the health monitor while Redis answers: publishes settings and status, flushes bypasses. */
  async publishState(status: 'ok' | 'degraded'): Promise<void> {
    const pending = this.pendingBypasses;
    const pipeline = this.redis
      .multi()
      .set(TTL_SETTING_KEY, String(this.ttlSeconds))
      .set(SYSTEM_STATUS_KEY, status);
    if (pending > 0) pipeline.incrby(STATS_BYPASSES_KEY, pending);
    await this.call(() => pipeline.exec());
    this.pendingBypasses -= pending;
  }

  async counters(): Promise<CacheCounters> {
    const [hits, misses, bypasses, ttl, status] = await this.call(() =>
      this.redis.mget(
        STATS_HITS_KEY,
        STATS_MISSES_KEY,
        STATS_BYPASSES_KEY,
        TTL_SETTING_KEY,
        SYSTEM_STATUS_KEY,
      ),
    );
    return {
      hits: Number(hits ?? 0),
      misses: Number(misses ?? 0),
      bypasses: Number(bypasses ?? 0) + this.pendingBypasses,
      ttlSeconds: ttl === null ? undefined : Number(ttl),
      status: status ?? undefined,
    };
  }

  /** Counters without Redis: only what this process saw. */
  localCounters(): CacheCounters {
    return { hits: 0, misses: 0, bypasses: this.pendingBypasses };
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  private async store(movie: Movie, replaceEqual: boolean, counterKey?: string): Promise<boolean> {
    const keys = counterKey ? [movieKey(movie.id), counterKey] : [movieKey(movie.id)];
    const stored = await this.call(() =>
      this.redis.storeMovie(
        keys.length,
        ...keys,
        String(movie.revision),
        String(this.ttlSeconds),
        replaceEqual ? '1' : '0',
        ...encodeMovieHash(movie),
      ),
    );
    return stored === 1;
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      this.metrics.redisErrors.inc({ operation: 'cache' });
      throw new DependencyUnavailableError('Redis', error);
    }
  }
}
