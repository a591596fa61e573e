import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { absentKey, fenceKey, movieKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';

// Redis's clock, in ms: logical expiries are set and compared on one clock.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: movie, absent marker, fence. The copy, after Redis's time and the fence; on a miss,
// whether the id is known absent.
const READ_MOVIE = `${NOW}
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then
  table.insert(hash, 1, redis.call('GET', KEYS[3]) or '')
  table.insert(hash, 1, now)
  return hash
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'absent'} end
return hash`;

// A cache-aside fill, fenced. KEYS: movie, fence. ARGV: the fence the miss saw before its
// MongoDB read ("<generation>:<revision>"), revision, ttl, grace, then field/value pairs.
// A newer cached copy wins and is returned. Otherwise the fill is stored only if the fence still
// has the generation the miss saw (it was not evicted or expired in between) and no write newer
// than this revision was recorded. Stored: logically fresh for ttl (expiresAt), kept ttl + grace.
const FILL_MOVIE = `${NOW}
local incoming = tonumber(ARGV[2])
local current = redis.call('HGET', KEYS[1], 'revision')
if current and tonumber(current) > incoming then
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
redis.call('HSET', KEYS[1], 'expiresAt', now + 1000 * tonumber(ARGV[3]), unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]))
return {'stored'}`;

// Write-through. KEYS: movie, fence, absent marker. ARGV: revision, ttl, fence ttl, a new
// generation (used if the fence is gone), grace, then field/value pairs. Raises the fence to
// this revision, forgets an absence, installs the copy unless a newer one is cached.
const INSTALL_MOVIE = `${NOW}
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
redis.call('HSET', KEYS[1], 'expiresAt', now + 1000 * tonumber(ARGV[2]), unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[5]))
return 1`;

type MovieScripts = Redis & {
  readMovie(key: string, absentKey: string, fenceKey: string): Promise<Array<string | number>>;
  fillMovie(...keysAndArgs: string[]): Promise<string[]>;
  installMovie(...keysAndArgs: string[]): Promise<number>;
};

/**
 * A cached copy with how long it stays fresh (`ttlMs`, zero or less once past its TTL: then it is
 * only kept for grace), and whether a write newer than it was recorded (`fenced`).
 */
export type CachedMovie =
  | { kind: 'hit'; movie: Movie; ttlMs: number; fenced: boolean }
  | { kind: 'absent' }
  | { kind: 'miss' };

/**
 * What a fill did: stored (an equal revision is stored again, with a fresh TTL); found a newer
 * copy cached (returned); or refused because a newer write was recorded (fenced) or the fence
 * was lost (unfenced): either way the miss read a copy that may be stale.
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
    redis.client.defineCommand('readMovie', { numberOfKeys: 3, lua: READ_MOVIE });
    redis.client.defineCommand('fillMovie', { numberOfKeys: 2, lua: FILL_MOVIE });
    redis.client.defineCommand('installMovie', { numberOfKeys: 3, lua: INSTALL_MOVIE });
    this.scripts = redis.client as MovieScripts;
  }

  /** The cached copy (fresh or in grace), a remembered absence, or a miss. */
  async read(id: string): Promise<CachedMovie> {
    const reply = await this.redis.run('cache', () =>
      this.scripts.readMovie(movieKey(id), absentKey(id), fenceKey(id)),
    );
    if (reply.length === 1) return { kind: 'absent' };
    if (reply.length === 0) return { kind: 'miss' };
    const hash = toHash(reply as string[], 2);
    const movie = decodeMovieHash(hash);
    if (!movie) return { kind: 'miss' };
    const fence = String(reply[1]);
    return {
      kind: 'hit',
      movie,
      // A copy without an expiry (written before expiries were kept) counts as expired.
      ttlMs: Number(hash.expiresAt ?? 0) - Number(reply[0]),
      fenced: fence !== '' && Number(fence.slice(fence.indexOf(':') + 1)) > movie.revision,
    };
  }

  /** Cache-aside fill (or refresh) of a movie read after the miss saw `fence` (see FILL_MOVIE). */
  async fill(movie: Movie, fence: string): Promise<FillResult> {
    const ttlSeconds = this.ttl.jitteredSeconds();
    const reply = await this.redis.run('cache', () =>
      this.scripts.fillMovie(
        movieKey(movie.id),
        fenceKey(movie.id),
        fence,
        String(movie.revision),
        String(ttlSeconds),
        String(this.ttl.graceSeconds),
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
        String(this.ttl.graceSeconds),
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
