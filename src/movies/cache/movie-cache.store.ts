import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { absentKey, fenceKey, movieKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';

// The copy with its remaining TTL (ms) first; on a miss, whether the id is known absent.
const READ_MOVIE = `
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then
  table.insert(hash, 1, redis.call('PTTL', KEYS[1]))
  return hash
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'absent'} end
return hash`;

// A cache-aside fill, fenced. KEYS: movie, fence. ARGV: the fence the miss saw
// before its MongoDB read ("<generation>:<revision>"), revision, ttl, then field/value pairs.
// A cached copy of this revision or newer wins and is returned. Otherwise the fill is stored
// only if the fence still has the generation the miss saw (it was not evicted or expired in
// between) and no write newer than this revision was recorded.
const FILL_MOVIE = `
local incoming = tonumber(ARGV[2])
local current = redis.call('HGET', KEYS[1], 'revision')
if current and tonumber(current) >= incoming then
  local hash = redis.call('HGETALL', KEYS[1])
  table.insert(hash, 1, 'cached')
  return hash
end
local fence = redis.call('GET', KEYS[2])
if not fence or string.match(fence, '^[^:]*') ~= string.match(ARGV[1], '^[^:]*') then
  return {'unfenced'}
end
if tonumber(string.match(fence, ':(.*)$')) > incoming then return {'fenced'} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {'stored'}`;

// Write-through. KEYS: movie, fence, absent marker. ARGV: revision, ttl, fence ttl, a new
// generation (used if the fence is gone), then field/value pairs. Raises the fence to this
// revision, forgets an absence, installs the copy unless a newer one is cached.
const INSTALL_MOVIE = `
local incoming = tonumber(ARGV[1])
local fence = redis.call('GET', KEYS[2])
local generation, revision = ARGV[4], incoming
if fence then
  generation = string.match(fence, '^[^:]*')
  revision = math.max(incoming, tonumber(string.match(fence, ':(.*)$')))
end
redis.call('SET', KEYS[2], generation .. ':' .. revision, 'EX', ARGV[3])
redis.call('DEL', KEYS[3])
local current = redis.call('HGET', KEYS[1], 'revision')
if current and tonumber(current) > incoming then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`;

type MovieScripts = Redis & {
  readMovie(key: string, absentKey: string): Promise<Array<string | number>>;
  fillMovie(...keysAndArgs: string[]): Promise<string[]>;
  installMovie(...keysAndArgs: string[]): Promise<number>;
};

export type CachedMovie =
  { kind: 'hit'; movie: Movie; ttlMs: number } | { kind: 'absent' } | { kind: 'miss' };

/**
 * What a fill did: stored; found this revision or a newer one cached (returned); or refused
 * because a newer write was recorded (fenced) or the fence was lost (unfenced): either way the
 * miss read a copy that may be stale.
 */
export type FillResult =
  | { kind: 'stored'; ttlMs: number }
  | { kind: 'cached'; movie: Movie }
  | { kind: 'fenced' | 'unfenced' };

/** A fresh fence generation: a fence evicted and created again never looks like the old one. */
export const newGeneration = (): string => randomBytes(6).toString('base64url');

const toHash = (flat: string[], from = 0): Record<string, string> => {
  const hash: Record<string, string> = {};
  for (let i = from; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return hash;
};

/** Movie copies as Redis hashes: hits, fenced fills, write-through installs. */
@Injectable()
export class MovieCacheStore {
  private readonly scripts: MovieScripts;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
  ) {
    redis.client.defineCommand('readMovie', { numberOfKeys: 2, lua: READ_MOVIE });
    redis.client.defineCommand('fillMovie', { numberOfKeys: 2, lua: FILL_MOVIE });
    redis.client.defineCommand('installMovie', { numberOfKeys: 3, lua: INSTALL_MOVIE });
    this.scripts = redis.client as MovieScripts;
  }

  /** The cached copy and its remaining TTL, a remembered absence, or a miss. */
  async read(id: string): Promise<CachedMovie> {
    const reply = await this.redis.run('cache', () =>
      this.scripts.readMovie(movieKey(id), absentKey(id)),
    );
    if (reply.length === 1) return { kind: 'absent' };
    const movie = reply.length === 0 ? null : decodeMovieHash(toHash(reply as string[], 1));
    return movie ? { kind: 'hit', movie, ttlMs: Number(reply[0]) } : { kind: 'miss' };
  }

  /** Cache-aside fill of a movie read after the miss saw `fence` (see FILL_MOVIE). */
  async fill(movie: Movie, fence: string): Promise<FillResult> {
    const ttlSeconds = this.ttl.jitteredSeconds();
    const reply = await this.redis.run('cache', () =>
      this.scripts.fillMovie(
        movieKey(movie.id),
        fenceKey(movie.id),
        fence,
        String(movie.revision),
        String(ttlSeconds),
        ...encodeMovieHash(movie),
      ),
    );
    if (reply[0] === 'stored') return { kind: 'stored', ttlMs: ttlSeconds * 1000 };
    if (reply[0] !== 'cached') return { kind: reply[0] as 'fenced' | 'unfenced' };
    return { kind: 'cached', movie: decodeMovieHash(toHash(reply, 1)) ?? movie };
  }

  /** Write-through: raises the fence, forgets an absence, installs the copy (resetting its TTL). */
  async install(movie: Movie): Promise<void> {
    await this.redis.run('cache', () =>
      this.scripts.installMovie(
        movieKey(movie.id),
        fenceKey(movie.id),
        absentKey(movie.id),
        String(movie.revision),
        String(this.ttl.jitteredSeconds()),
        String(this.ttl.fenceSeconds),
        newGeneration(),
        ...encodeMovieHash(movie),
      ),
    );
  }

  async evict(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1_000) {
      const keys = ids.slice(i, i + 1_000).map(movieKey);
      await this.redis.run('cache', (redis) => redis.del(...keys));
    }
  }
}
