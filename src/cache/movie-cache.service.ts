import { Inject, Injectable } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
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
  absentKey,
  leaseKey,
  movieKey,
  titleKey,
} from './cache-keys';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';
import { REDIS_CLIENT } from './redis.module';

// Read and count the hit in one round trip; on a miss, say whether the id is known absent.
const READ_MOVIE = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then
  redis.call('INCR', KEYS[2])
  return hash
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'absent'} end
return hash`;

// Releases a fill lease only if this caller still holds it.
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

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
  readMovie(key: string, hitsKey: string, absentKey: string): Promise<string[]>;
  storeMovie(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  releaseLease(key: string, token: string): Promise<number>;
}

export type CachedMovie = { kind: 'hit'; movie: Movie } | { kind: 'absent' } | { kind: 'miss' };

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
  /** Ids written while Redis was unreachable: their cached copies may be stale until evicted. */
  private readonly dirty = new Set<string>();
  private consecutiveFailures = 0;
  private breakerOpenUntil = 0;

  constructor(
    @Inject(REDIS_CLIENT) redis: Redis,
    @Inject(CACHE_MANAGER) private readonly cacheManager: Cache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    redis.defineCommand('readMovie', { numberOfKeys: 3, lua: READ_MOVIE });
    redis.defineCommand('storeMovie', { lua: STORE_MOVIE });
    redis.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    this.redis = redis as Redis & MovieScripts;
  }

  get ttlSeconds(): number {
    return this.config.cacheTtlSeconds;
  }

  /** TTL for one fill: CACHE_TTL_SECONDS, jittered by up to ±CACHE_TTL_JITTER. */
  jitteredTtlSeconds(): number {
    const jitter = this.config.cacheTtlJitter * (2 * Math.random() - 1);
    return Math.max(1, Math.round(this.ttlSeconds * (1 + jitter)));
  }

  /** The cached copy (counting a hit), a remembered absence, or a miss. */
  async readMovie(id: string): Promise<CachedMovie> {
    // A copy cached before an outage in which this id was written may be stale: read MongoDB.
    if (this.dirty.has(id)) return { kind: 'miss' };
    const key = movieKey(id);
    const flat = await this.call(() => this.redis.readMovie(key, STATS_HITS_KEY, absentKey(key)));
    if (flat.length === 1) return { kind: 'absent' };
    if (flat.length === 0) return { kind: 'miss' };
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
    const movie = decodeMovieHash(hash);
    return movie ? { kind: 'hit', movie } : { kind: 'miss' };
  }

  /** Cache-aside fill after a miss: stored unless the cache already holds this revision or newer. */
  async fillMovie(movie: Movie): Promise<boolean> {
    const stored = await this.store(movie, false, STATS_MISSES_KEY);
    if (this.dirty.delete(movie.id) && !stored) await this.evictMovies([movie.id]);
    return stored;
  }

  /**
   * Write-through: installs this revision (resetting the TTL) unless a newer one is cached, and
   * clears a remembered absence. If Redis is unreachable the id is remembered as dirty.
   */
  async writeThrough(movie: Movie): Promise<boolean> {
    try {
      await this.store(movie, true);
      await this.call(() => this.redis.del(absentKey(movieKey(movie.id))));
      this.dirty.delete(movie.id);
      return true;
    } catch (error) {
      this.dirty.add(movie.id);
      throw error;
    }
  }

  /** Evicts the copies of ids written during an outage; called once Redis answers again. */
  async evictDirty(): Promise<number> {
    const ids = [...this.dirty];
    if (ids.length === 0) return 0;
    await this.evictMovies(ids);
    ids.forEach((id) => this.dirty.delete(id));
    return ids.length;
  }

  /** Remembers a lookup (movie or title key) as absent for NEGATIVE_TTL_SECONDS. */
  async rememberAbsent(lookupKey: string): Promise<void> {
    if (this.config.negativeTtlSeconds === 0) return;
    await this.call(() =>
      this.redis.set(absentKey(lookupKey), '1', 'EX', this.config.negativeTtlSeconds),
    );
  }

  async isAbsent(lookupKey: string): Promise<boolean> {
    return (await this.call(() => this.redis.exists(absentKey(lookupKey)))) === 1;
  }

  /** A token if this caller may fill the key; null while another instance holds the lease. */
  async acquireLease(lookupKey: string): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.call(() =>
      this.redis.set(leaseKey(lookupKey), token, 'PX', this.config.fillLeaseMs, 'NX'),
    );
    return ok === 'OK' ? token : null;
  }

  async releaseLease(lookupKey: string, token: string): Promise<void> {
    await this.call(() => this.redis.releaseLease(leaseKey(lookupKey), token));
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
    await this.call(() =>
      this.cacheManager.set(titleKey(title, year), id, this.jitteredTtlSeconds() * 1000),
    );
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

  /** The health probe: bypasses the breaker, and closes it when Redis answers. */
  async ping(): Promise<boolean> {
    try {
      const ok = (await this.redis.ping()) === 'PONG';
      if (ok) {
        this.consecutiveFailures = 0;
        this.breakerOpenUntil = 0;
      }
      return ok;
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
        String(this.jitteredTtlSeconds()),
        replaceEqual ? '1' : '0',
        ...encodeMovieHash(movie),
      ),
    );
    return stored === 1;
  }

  /**
   * Every Redis call goes through here: failures surface as DependencyUnavailableError('Redis'),
   * and after REDIS_BREAKER_THRESHOLD failures in a row the breaker opens: calls fail at once for
   * REDIS_BREAKER_COOLDOWN_MS instead of each paying a timeout, then one call probes again.
   */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (Date.now() < this.breakerOpenUntil) {
      throw new DependencyUnavailableError('Redis', new Error('circuit breaker open'));
    }
    try {
      const result = await command();
      this.consecutiveFailures = 0;
      return result;
    } catch (error) {
      this.metrics.redisErrors.inc({ operation: 'cache' });
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.config.redisBreakerThreshold) {
        this.breakerOpenUntil = Date.now() + this.config.redisBreakerCooldownMs;
      }
      throw new DependencyUnavailableError('Redis', error);
    }
  }
}
