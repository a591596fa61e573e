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
 * only kept for grace), whether a write newer than it was recorded (`fenced`), and whether it was
 * stored so soon after its fence was lost that a near-cache must not keep it yet (`unsettled`).
 */
export type CachedMovie =
  | { kind: 'hit'; movie: Movie; ttlMs: number; fenced: boolean; unsettled: boolean }
  | { kind: 'absent' }
  | { kind: 'miss' };

/**
 * What a fill did: stored (an equal revision is stored again, with a fresh TTL); found a newer
 * copy cached (returned); or refused because a newer write was recorded (fenced) or the fence
 * was lost (unfenced): either way the miss read a copy that may be stale; or because a write is
 * in flight (pending): the copy read is answered, not cached.
 */
export type FillResult =
  | { kind: 'stored'; ttlMs: number; unsettled: boolean }
  | { kind: 'cached'; movie: Movie }
  | { kind: 'fenced' | 'unfenced' | 'pending' };

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
    const now = Number(reply[0]);
    const ttlMs = Number(hash.expiresAt ?? 0) - now;
    const unsettled = Number(hash.settlesAt ?? 0) > now;
    return { kind: 'hit', movie, ttlMs, fenced: Number(reply[1]) === 1, unsettled };
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
        this.policy.fenceSeconds,
        WriteFence.generation(),
        this.policy.writeWindowMs,
        ...encodeMovieHash(movie),
      ),
    );
    if (reply[0] === 'stored')
      return { kind: 'stored', ttlMs: freshMs, unsettled: Number(reply[1]) > 0 };
    if (reply[0] !== 'cached') return { kind: reply[0] as 'fenced' | 'unfenced' | 'pending' };
    return { kind: 'cached', movie: decodeMovieHash(toHash(reply, 1)) ?? movie };
  }

  /**
   * An UpdateRating that began with `began` (its nonce `nonce`) ends. With the movie MongoDB saved,
   * the fence is raised to its revision and the copy installed (true), unless another write is
   * pending or the fence was lost or regenerated since: then the copy is dropped. Without one (the
   * write was not saved), the write only leaves the fence.
   */
  async endWrite(id: string, began: string, nonce: string, movie?: Movie): Promise<boolean> {
    const { freshMs, keepSeconds } = this.policy.copyLifetime();
    const installed = await this.redis.run('write', () =>
      this.scripts.endWrite(
        movieKey(id),
        fenceKey(id),
        absentKey(id),
        began,
        nonce,
        movie?.revision ?? '',
        freshMs,
        keepSeconds,
        this.policy.fenceSeconds,
        WriteFence.generation(),
        this.policy.writeWindowMs,
        ...(movie ? encodeMovieHash(movie) : []),
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
