import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  absentKey,
  fenceKey,
  leaseKey,
  legacyMovieKey,
  movieKey,
  storedTitleKey,
  titleTag,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { CachePolicy } from './cache-policy';
import { CachedCopy } from './cached-copy';
import { encodeCopy } from './movie-copy.codec';

export interface MissTicket {
  /** The lease token, or null while another instance fills this lookup (or none will). */
  lease: string | null;
  /** The write fence as it was before this miss reads MongoDB. */
  fence: string;
  /** A write is in flight: MongoDB is read, and nothing is cached until it ends. */
  pending: boolean;
  /** The fence was missing: it vouches for no revision yet (never read, expired, or lost). */
  made: boolean;
  /** The lookup is remembered absent: no miss needed (no lease, no fence). */
  absent: boolean;
}

/**
 * The write fence of a lookup, "<generation>:<revision>" (its Lua: commands/includes/fence.lua).
 * A miss reads it before MongoDB; its fill is refused if a write raised it since, if it was lost
 * or regenerated, or while a write is pending. An UpdateRating makes it pending before MongoDB
 * and raises it after; a repair regenerates it.
 */
@Injectable()
export class WriteFence {
  constructor(
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
  ) {}

  /** A fresh generation: a fence evicted and created again never looks like the old one. */
  static generation(): string {
    return randomBytes(6).toString('base64url');
  }

  /**
   * Begins a miss of `tag` (and `year`): reads the fence its fill will be checked against and
   * tries to take the lookup's fill lease (one MongoDB read across instances), in one round trip.
   */
  async begin(tag: string, year?: number, withLease = true): Promise<MissTicket> {
    const token = withLease ? randomUUID() : '';
    const reply = await this.redis.run('cache', () =>
      this.scripts.beginMiss(
        leaseKey(tag, year),
        fenceKey(tag),
        absentKey(tag, year),
        token,
        this.policy.fillLeaseMs,
        WriteFence.generation(),
        this.policy.fenceSeconds,
        withLease ? '1' : '0',
      ),
    );
    if (reply[0] === 'absent')
      return { lease: null, fence: '', pending: false, made: false, absent: true };
    const [leased, fence, pending, made] = reply;
    const ticket = { lease: leased === 1 ? token : null, fence, pending: pending === 1 };
    return { ...ticket, made: made === 1, absent: false };
  }

  /**
   * An UpdateRating of `id` begins, before MongoDB: the fence names the write (`nonce`) and stays
   * pending for the write window; the copy and absence are dropped. Returns the fence it left.
   */
  async beginWrite(id: string, nonce: string): Promise<string> {
    return this.redis.run('write', () =>
      this.scripts.beginWrite(
        movieKey(id),
        legacyMovieKey(id),
        fenceKey(id),
        absentKey(id),
        nonce,
        WriteFence.generation(),
        this.policy.fenceSeconds,
        this.policy.writeWindowMs,
      ),
    );
  }

  /** The fence now (created if lost), for a miss whose fill was refused and reads again. */
  async current(tag: string): Promise<string> {
    return (await this.begin(tag, undefined, false)).fence;
  }

  /** Ends a miss: its lease, if it took one, is released (it expires anyway). */
  async end(ticket: MissTicket, tag: string, year?: number): Promise<void> {
    if (!ticket.lease) return;
    const lease = ticket.lease;
    await this.redis
      .run('cache', () => this.scripts.releaseLease(leaseKey(tag, year), lease))
      .catch(() => undefined);
  }

  /**
   * A movie with this title was written: title misses begun before now remember no absence.
   * `remapped`: the write may have moved the title to another movie, so its ids are forgotten.
   */
  async raiseTitle(title: string, year?: number, remapped = false): Promise<void> {
    const tag = titleTag(title);
    await this.redis.run('cache', () =>
      this.scripts.titleWritten(
        fenceKey(tag),
        absentKey(tag),
        absentKey(tag, year),
        storedTitleKey(tag),
        storedTitleKey(tag, year),
        this.policy.fenceSeconds,
        WriteFence.generation(),
        remapped ? '1' : '0',
      ),
    );
  }

  /**
   * After a write made outside the service: unless the id's copy is `current` (what MongoDB holds
   * now; null: gone; undefined: unknown), a new generation at its revision refuses every older
   * fill, and the copy is dropped. Returns 'current', or the dropped copy's title and year.
   */
  async repair(
    id: string,
    current?: Movie | null,
  ): Promise<'current' | { title: string; year?: number } | undefined> {
    const revision = current === undefined ? '?' : (current?.revision ?? '');
    const reply = await this.redis.run('repair', () =>
      this.scripts.repairMovieBuffer(
        movieKey(id),
        legacyMovieKey(id),
        fenceKey(id),
        absentKey(id),
        WriteFence.generation(),
        this.policy.fenceSeconds,
        revision,
        current ? encodeCopy(current) : '',
      ),
    );
    if (reply.length === 0) return undefined;
    if (reply[0].toString() === 'current') return 'current';
    const dropped = CachedCopy.of(reply[0])?.ref;
    return dropped && { title: dropped.title, year: dropped.year || undefined };
  }
}
