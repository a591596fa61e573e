import { Inject, Injectable } from '@nestjs/common';
import { isMongoDown, isRedisDown } from '../../common/errors';
import { poll } from '../../common/sleep';
import { CacheStatus } from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import { leaseKey } from '../../redis/cache-keys';
import { CachePolicy } from './cache-policy';
import { CACHE_HOOKS, type CacheHooks } from './cache-hooks';
import { MovieCacheStore, type CachedMovie } from './movie-cache.store';
import { MOVIE_SOURCE, NO_DEADLINE, type MovieSource, type ReadDeadline } from './movie-source';
import { NearCache } from './near/near-cache';
import { NegativeCache } from './negative-cache';
import { RefreshAhead } from './refresh-ahead';
import { CachedCopy } from './cached-copy';
import {
  LogicalClock,
  answer,
  encodedAnswer,
  found,
  miss,
  type CacheAsideResult,
  type ReadOutcome,
  type Tick,
} from './read-outcome';
import { SingleFlight } from './single-flight';
import { inSpan } from '../../telemetry/tracer';
import type { Span } from '@opentelemetry/api';
import { WriteFence, type MissTicket } from './write-fence';

/** Where a miss first reads MongoDB: the source, or a batch's reads sent together. */
export type FirstReads = Pick<MovieSource, 'findById'>;

/** A refused fill means the miss read a copy older than a write: read again, this many times in all. */
const MAX_READS = 3;
const POLL_MS = 10;

/**
 * A copy past its TTL, kept for grace: served as STALE if MongoDB fails. A write drops every copy
 * before MongoDB has it, so a copy still there is the movie as MongoDB holds it.
 */
interface GracedCopy {
  kind: 'graced';
  copy: CachedCopy;
  freshAt: Tick;
}

/** What a cache tier gave that is answered as it is (not a copy in grace, not nothing). */
const isAnswer = (cached: ReadOutcome | GracedCopy | null): cached is ReadOutcome =>
  cached !== null && cached.kind !== 'graced';

/**
 * GetMovie of an id, in the order it happens: the near-cache, Redis, grace or refresh-ahead, then
 * a miss (single flight, lease, fenced fill, read again if refused). Every answer goes only to
 * requests that arrived before it was read.
 */
@Injectable()
export class ReadPipeline {
  private readonly flights = new SingleFlight();

  constructor(
    private readonly near: NearCache,
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly negative: NegativeCache,
    private readonly clock: LogicalClock,
    private readonly policy: CachePolicy,
    private readonly metrics: MetricsService,
    private readonly refreshAhead: RefreshAhead,
    @Inject(MOVIE_SOURCE) private readonly source: MovieSource,
    @Inject(CACHE_HOOKS) private readonly hooks: CacheHooks,
  ) {}

  /**
   * `nearChecked`: the caller already asked the near-cache (a lookup is counted there once).
   * `deadline`: the call's (past once cancelled); a miss reads MongoDB only within it.
   * `reads`: where a miss it leads first reads MongoDB (a batch's, to send its misses together).
   */
  read(
    id: string,
    arrivedAt: Tick,
    nearChecked = false,
    deadline: ReadDeadline = NO_DEADLINE,
    reads: FirstReads = this.source,
  ): Promise<ReadOutcome> {
    // A fresh Redis copy, the common case past the near-cache, is answered without async frames.
    return this.cached(id, arrivedAt, nearChecked).then((cached) =>
      isAnswer(cached) ? cached : this.pastRedis(id, arrivedAt, cached, deadline, reads),
    );
  }

  /** 1-2. The near-cache (unless already asked), then Redis: an answer, a graced copy or null. */
  private cached(
    id: string,
    arrivedAt: Tick,
    nearChecked: boolean,
  ): Promise<ReadOutcome | GracedCopy | null> {
    const hit = nearChecked ? null : this.nearHit(id);
    return hit ? Promise.resolve(found(hit, arrivedAt)) : this.fromRedis(id);
  }

  /** After Redis had no fresh copy (`cached`: graced or none): a miss, read again if it must. */
  private async pastRedis(
    id: string,
    arrivedAt: Tick,
    cached: GracedCopy | null,
    deadline: ReadDeadline,
    reads: FirstReads,
  ): Promise<ReadOutcome> {
    // One soft timeout per request, however often it reads again.
    let softUntil: number | undefined;
    for (;;) {
      const missed = this.flights.run(
        leaseKey(id),
        arrivedAt,
        (flightDeadline) => this.miss(id, flightDeadline, reads),
        deadline,
      );
      let outcome;
      if (cached?.kind === 'graced') {
        softUntil ??= performance.now() + this.policy.softTimeoutMs;
        outcome = await this.staleIfMongoFails(missed, cached, softUntil);
      } else outcome = await missed;
      if (outcome) return outcome;
      // Joined a miss whose answer predates this request: read again.
      const again = await this.cached(id, arrivedAt, false);
      if (isAnswer(again)) return again;
      cached = again;
    }
  }

  /** 1. Process memory (every acknowledged write dropped from it); the answer is built once per copy. */
  nearHit(id: string): CacheAsideResult | null {
    const copy = this.near.movie(id);
    if (!copy) return null;
    // A hot movie is mostly served from here, so this is where its refresh-ahead falls due.
    this.refreshAhead.ifDue(id, copy.freshUntil - performance.now());
    return copy.hit;
  }

  /** 2. Redis: null on a miss (`withAbsence`: an absence too, else a miss learns of it). */
  private fromRedis(id: string, withAbsence = false): Promise<ReadOutcome | GracedCopy | null> {
    const readAt = this.clock.tick();
    const seen = this.near.invalidationCount();
    const read = withAbsence ? this.store.readOrAbsent(id) : this.store.read(id);
    return read.then((cached) => this.redisOutcome(id, cached, readAt, seen));
  }

  private redisOutcome(
    id: string,
    cached: CachedMovie,
    readAt: Tick,
    seen: number,
  ): ReadOutcome | GracedCopy | null {
    if (cached.kind === 'absent') return { kind: 'absent', freshAt: readAt };
    if (cached.kind === 'miss') return null;
    if (cached.ttlMs <= 0) return { kind: 'graced', copy: cached.copy, freshAt: readAt };
    // Decoded only for a near-cache to keep: a Redis hit sends the copy's encoding on.
    if (this.near.serving)
      this.near.keep(cached.copy.movie(), cached.ttlMs, seen, cached.unsettled);
    this.refreshAhead.ifDue(id, cached.ttlMs);
    return found(encodedAnswer(cached.copy, CacheStatus.CACHE_STATUS_HIT), readAt);
  }

  /**
   * 3. A copy past its TTL is refreshed as a miss; if MongoDB fails or is slower than
   * CACHE_SOFT_TIMEOUT_MS, it is served as STALE (the miss goes on in the background). While
   * MongoDB's last answer was "unreachable", STALE is served at once.
   */
  private async staleIfMongoFails(
    missed: Promise<ReadOutcome | null>,
    graced: GracedCopy,
    softUntil: number,
  ): Promise<ReadOutcome | null> {
    const stale = found(encodedAnswer(graced.copy, CacheStatus.CACHE_STATUS_STALE), graced.freshAt);
    if (this.source.unavailable) {
      missed.catch(() => undefined);
      return stale;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, softUntil - performance.now()));
    });
    try {
      const first = await Promise.race([missed, late]);
      if (first !== 'late') return first;
      missed.catch(() => undefined);
      return stale;
    } catch (error) {
      if (!isMongoDown(error)) throw error;
      return stale;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * 4. A miss: the lease holder reads MongoDB; other instances wait for its fill. While a write is
   * pending, every instance reads MongoDB: its fill is refused (the answer is not cached) but
   * still raises the fence's floor.
   */
  private miss(id: string, deadline: ReadDeadline, reads: FirstReads): Promise<ReadOutcome> {
    return inSpan('cache.miss', async (span) => {
      const readAt = this.clock.tick();
      const ticket = await this.fence.begin(id);
      if (ticket.absent) return { kind: 'absent', freshAt: readAt };
      span?.setAttribute(
        'cache.lease',
        ticket.pending ? 'write_pending' : ticket.lease ? 'held' : 'other_instance',
      );
      try {
        const filled = ticket.lease || ticket.pending ? null : await this.otherInstanceFill(id);
        return filled ?? (await this.loadAndFill(id, ticket, deadline, reads, span));
      } finally {
        await this.fence.end(ticket, id);
      }
    });
  }

  /** Another instance holds the lease: its fill, if it comes within the lease time. */
  private otherInstanceFill(id: string): Promise<ReadOutcome | null> {
    const filled = async () => {
      const cached = await this.fromRedis(id, true);
      return isAnswer(cached) ? cached : null;
    };
    return inSpan('cache.lease_wait', async (span) => {
      const outcome = await poll(filled, this.policy.fillLeaseMs, POLL_MS);
      span?.setAttribute('cache.lease_wait.filled', outcome !== null);
      return outcome;
    });
  }

  /** 5. MongoDB, then a fill fenced against writes; a refused fill reads MongoDB again. */
  private async loadAndFill(
    id: string,
    ticket: MissTicket,
    deadline: ReadDeadline,
    firstReads: FirstReads,
    span?: Span,
  ): Promise<ReadOutcome> {
    let fence = ticket.fence;
    const fills: string[] = [];
    for (let reads = 1; ; reads += 1) {
      const readAt = this.clock.tick();
      const started = performance.now();
      // No fence vouches for a revision yet: a lagging (deposed) primary's read must not be filled.
      const source = reads === 1 ? firstReads : this.source;
      const movie = await source.findById(id, deadline, reads === 1 && ticket.made);
      if (!movie) return this.negative.afterMiss(id, undefined, fence, readAt);
      let sentAt: Tick;
      let seen: number;
      let filled;
      try {
        await this.hooks.beforeFill(movie);
        sentAt = this.clock.tick();
        seen = this.near.invalidationCount();
        // The fill ends the miss: its lease goes with it.
        filled = await this.store.fill(movie, fence, ticket.lease);
        ticket.lease = null;
      } catch (error) {
        if (!isRedisDown(error)) throw error;
        return found(answer(movie, CacheStatus.CACHE_STATUS_BYPASS), readAt);
      }
      this.metrics.cacheFills.inc({ outcome: filled.kind });
      fills.push(filled.kind);
      span?.setAttributes({
        'cache.fill': filled.kind,
        'cache.fills': fills,
        'cache.reads': reads,
      });
      this.policy.observeMiss(performance.now() - started);
      if (filled.kind === 'stored') {
        this.near.keep(movie, filled.ttlMs, seen, filled.unsettled);
        return found(miss(movie), sentAt);
      }
      if (filled.kind === 'cached') return found(miss(filled.movie), sentAt);
      if (reads === MAX_READS && filled.kind === 'fenced') return this.behindFence(id, deadline);
      // Refused: the copy read may predate a write. It is still fresh as of its own read.
      if (reads === MAX_READS || filled.kind === 'pending') return found(miss(movie), readAt);
      if (filled.kind === 'unfenced') fence = await this.fence.current(id);
    }
  }

  /**
   * MongoDB keeps answering below the fence's floor. Through writes of the service revisions only
   * rise, so either MongoDB's primary was deposed (its reads lag) or a write from outside lowered
   * the revision (an import). A linearizable read tells them apart: what it reads is the truth,
   * the fence is reset to it, and it is answered.
   */
  private async behindFence(id: string, deadline: ReadDeadline): Promise<ReadOutcome> {
    const readAt = this.clock.tick();
    const movie = await this.source.findById(id, deadline, true);
    if (!movie) return { kind: 'absent', freshAt: readAt };
    await this.fence.repair(id, movie).catch(() => undefined);
    return found(miss(movie), readAt);
  }
}
