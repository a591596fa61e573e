import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { STATS_HITS_KEY, STATS_MISSES_KEY, absentKey, movieKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';

// Read and count the hit in one round trip; on a miss, say whether the id is known absent.
const READ_MOVIE = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then
  redis.call('INCR', KEYS[2])
  return hash
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {'absent'} end
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

type MovieScripts = Redis & {
  readMovie(key: string, hitsKey: string, absentKey: string): Promise<string[]>;
  storeMovie(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
};

export type CachedMovie = { kind: 'hit'; movie: Movie } | { kind: 'absent' } | { kind: 'miss' };

/** Movie copies as Redis hashes, with a compare-and-set on revision. */
@Injectable()
export class MovieCacheStore {
  private readonly scripts: MovieScripts;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
  ) {
    redis.client.defineCommand('readMovie', { numberOfKeys: 3, lua: READ_MOVIE });
    redis.client.defineCommand('storeMovie', { lua: STORE_MOVIE });
    this.scripts = redis.client as MovieScripts;
  }

  /** The cached copy (counting a hit), a remembered absence, or a miss. */
  async read(id: string): Promise<CachedMovie> {
    const key = movieKey(id);
    const flat = await this.redis.run('cache', () =>
      this.scripts.readMovie(key, STATS_HITS_KEY, absentKey(id)),
    );
    if (flat.length === 1) return { kind: 'absent' };
    if (flat.length === 0) return { kind: 'miss' };
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
    const movie = decodeMovieHash(hash);
    return movie ? { kind: 'hit', movie } : { kind: 'miss' };
  }

  /** Cache-aside fill after a miss: stored unless the cache already holds this revision or newer. */
  fill(movie: Movie): Promise<boolean> {
    return this.store(movie, false, STATS_MISSES_KEY);
  }

  /** Write-through: installs this revision (resetting the TTL) unless a newer one is cached. */
  async install(movie: Movie): Promise<void> {
    await this.store(movie, true);
    await this.redis.run('cache', (redis) => redis.del(absentKey(movie.id)));
  }

  async evict(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1_000) {
      const keys = ids.slice(i, i + 1_000).map(movieKey);
      await this.redis.run('cache', (redis) => redis.del(...keys));
    }
  }

  private async store(movie: Movie, replaceEqual: boolean, counterKey?: string): Promise<boolean> {
    const keys = counterKey ? [movieKey(movie.id), counterKey] : [movieKey(movie.id)];
    const stored = await this.redis.run('cache', () =>
      this.scripts.storeMovie(
        keys.length,
        ...keys,
        String(movie.revision),
        String(this.ttl.jitteredSeconds()),
        replaceEqual ? '1' : '0',
        ...encodeMovieHash(movie),
      ),
    );
    return stored === 1;
  }
}
