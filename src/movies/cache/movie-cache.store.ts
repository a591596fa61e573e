import { Inject, Injectable } from '@nestjs/common';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { absentKey, fenceKey, movieKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import { CachePolicy } from './cache-policy';
import { decodeMovieHash, encodeMovieHash } from './movie-hash.codec';
import { WriteFence } from './write-fence';

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

const toHash = (flat: string[], from = 0): Record<string, string> => {
  const hash: Record<string, string> = {};
  for (let i = from; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return hash;
};

/** Movie copies as Redis hashes: hits, fenced fills, write-through installs (commands/*-movie-*.lua). */
@Injectable()
export class MovieCacheStore {
  constructor(
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
  ) {}

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
    // A copy without an expiry (written before expiries were kept) counts as expired.
    const ttlMs = Number(hash.expiresAt ?? 0) - Number(reply[0]);
    return { kind: 'hit', movie, ttlMs, fenced: Number(reply[1]) === 1 };
  }

  /** Cache-aside fill (or refresh) of a movie read after the miss saw `fence`. */
  async fill(movie: Movie, fence: string): Promise<FillResult> {
    const { freshMs, keepSeconds } = this.policy.copyLifetime();
    const reply = await this.redis.run('cache', () =>
      this.scripts.fillMovie(
        movieKey(movie.id),
        fenceKey(movie.id),
        fence,
        movie.revision,
        freshMs,
        keepSeconds,
        ...encodeMovieHash(movie),
      ),
    );
    if (reply[0] === 'stored') return { kind: 'stored', ttlMs: freshMs };
    if (reply[0] !== 'cached') return { kind: reply[0] as 'fenced' | 'unfenced' };
    return { kind: 'cached', movie: decodeMovieHash(toHash(reply, 1)) ?? movie };
  }

  /**
   * Write-through: raises the fence, forgets an absence, installs the copy (resetting its TTL).
   * `seen` is the fence before the write reached MongoDB. False if not installed: a newer copy
   * or write is known, or the fence was lost or regenerated since `seen` (the copy is dropped).
   */
  async install(movie: Movie, seen: string | undefined): Promise<boolean> {
    const { freshMs, keepSeconds } = this.policy.copyLifetime();
    const installed = await this.redis.run('cache', () =>
      this.scripts.installMovie(
        movieKey(movie.id),
        fenceKey(movie.id),
        absentKey(movie.id),
        movie.revision,
        freshMs,
        keepSeconds,
        this.policy.fenceSeconds,
        WriteFence.generation(),
        seen ?? '',
        ...encodeMovieHash(movie),
      ),
    );
    return installed === 1;
  }

  async evict(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1_000) {
      const keys = ids.slice(i, i + 1_000).map(movieKey);
      await this.redis.run('cache', (redis) => redis.del(...keys));
    }
  }
}
