import { Inject, Injectable } from '@nestjs/common';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { absentKey, fenceKey, leaseKey, legacyMovieKey, movieKey } from '../../redis/cache-keys';
import { BatchedGets } from '../../redis/batched-gets';
import { RedisCircuit } from '../../redis/redis-circuit';
import { RedisClock } from '../../redis/redis-clock';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import { CachePolicy } from './cache-policy';
import { CachedCopy } from './cached-copy';
import { encodeCopy } from './movie-copy.codec';
import { WriteFence } from './write-fence';

/** How much later than its estimate of Redis's clock a copy counts as settled. */
const SETTLE_MARGIN_MS = 1_000;

/**
 * A cached copy with how long it stays fresh (`ttlMs`, zero or less once past its TTL: then it is
 * only kept for grace), and whether it was stored so soon after its fence was lost that a
 * near-cache must not keep it while a write of the movie may be in flight (`unsettled`).
 */
export type CachedMovie =
  | { kind: 'hit'; copy: CachedCopy; ttlMs: number; unsettled: boolean }
  | { kind: 'absent' }
  | { kind: 'miss' };

const MISS: CachedMovie = Object.freeze({ kind: 'miss' });

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

/** Movie copies in Redis: hits, fenced fills, a write's end (commands/*-movie-*.lua, copy.lua). */
@Injectable()
export class MovieCacheStore {
  private readonly gets: BatchedGets;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly clock: RedisClock,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
  ) {
    this.gets = new BatchedGets(redis, 'cache');
  }

  /**
   * The cached copy (fresh or in grace) or a miss: one GET, sent with the other reads of this turn
   * of the event loop, as cheap as a hit can be. A miss learns of a remembered absence when it begins.
   */
  read(id: string): Promise<CachedMovie> {
    return this.gets.get(movieKey(id), this.cached);
  }

  private readonly cached = (value: Buffer | null): CachedMovie => (value ? this.hit(value) : MISS);

  /** As `read`, telling a remembered absence apart from a miss (for a wait on another's fill). */
  async readOrAbsent(id: string): Promise<CachedMovie> {
    const [value] = await this.redis.run('cache', () =>
      this.scripts.readCopyBuffer(movieKey(id), absentKey(id)),
    );
    if (Buffer.isBuffer(value)) return this.hit(value);
    return value === 1 ? { kind: 'absent' } : MISS;
  }

  private hit(value: Buffer): CachedMovie {
    const copy = CachedCopy.of(value);
    if (!copy) return MISS;
    const now = this.clock.now();
    // A settled copy must not be taken for settled early: the clock's estimate gets a margin.
    const unsettled = copy.settlesAt > 0 && now < copy.settlesAt + SETTLE_MARGIN_MS;
    return { kind: 'hit', copy, ttlMs: copy.expiresAt - now, unsettled };
  }

  /**
   * Cache-aside fill (or refresh) of a movie read after the miss saw `fence`; it also ends the
   * miss, releasing its fill lease (`lease`, its token, if it holds it).
   */
  async fill(movie: Movie, fence: string, lease: string | null = null): Promise<FillResult> {
    const freshMs = this.policy.freshMs();
    const reply = await this.redis.run('cache', () =>
      this.scripts.fillMovieBuffer(
        movieKey(movie.id),
        fenceKey(movie.id),
        leaseKey(movie.id),
        fence,
        movie.revision,
        freshMs,
        this.policy.graceMs,
        this.policy.fenceSeconds,
        WriteFence.generation(),
        this.policy.writeWindowMs,
        lease ?? '',
        encodeCopy(movie),
      ),
    );
    const kind = String(reply[0]);
    if (kind === 'stored') return { kind, ttlMs: freshMs, unsettled: Number(reply[1]) === 1 };
    if (kind === 'cached') {
      const cached = CachedCopy.of(reply[1] as Buffer)?.movie();
      if (cached) return { kind, movie: cached };
    }
    return { kind: kind as 'fenced' | 'unfenced' | 'pending' };
  }

  /**
   * An UpdateRating that began with `began` (its nonce `nonce`) ends. With the movie MongoDB saved,
   * the fence is raised to its revision and the copy installed (true), unless another write is
   * pending or the fence was lost or regenerated since: then the copy is dropped. Without one (the
   * write was not saved), the write only leaves the fence.
   */
  async endWrite(id: string, began: string, nonce: string, movie?: Movie): Promise<boolean> {
    const installed = await this.redis.run('write', () =>
      this.scripts.endWrite(
        movieKey(id),
        legacyMovieKey(id),
        fenceKey(id),
        absentKey(id),
        began,
        nonce,
        movie?.revision ?? '',
        this.policy.freshMs(),
        this.policy.graceMs,
        this.policy.fenceSeconds,
        WriteFence.generation(),
        this.policy.writeWindowMs,
        movie ? encodeCopy(movie) : '',
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
