import { Inject, Injectable } from '@nestjs/common';
import { poll } from '../../common/sleep';
import type { MovieLookup } from '../movie-lookup';
import { CachePolicy } from './cache-policy';
import type { LookupKeys } from './lookup-keys';
import { MOVIE_SOURCE, NO_DEADLINE, type MovieSource, type ReadDeadline } from './movie-source';
import { NearCache } from './near/near-cache';
import { NegativeCache, type Absent } from './negative-cache';
import { ReadPipeline, type FirstReads } from './read-pipeline';
import {
  LogicalClock,
  miss,
  type CacheAsideResult,
  type ReadOutcome,
  type Tick,
} from './read-outcome';
import { SingleFlight } from './single-flight';
import { inSpan } from '../../telemetry/tracer';
import { TitleMap } from './title-map';
import { WriteFence } from './write-fence';

const POLL_MS = 10;

type TitleLookup = Extract<MovieLookup, { kind: 'title' }>;

/** A write made outside the service can move a title to another copy than the one it named. */
const answers = (lookup: TitleLookup, movie: { title: string; year: number }) =>
  movie.title === lookup.title && (lookup.year === undefined || movie.year === lookup.year);
/** The title's id, or its remembered absence. */
type Resolution = string | Absent;

/**
 * GetMovie by title: the title resolves to an id (near-cache, title map, or on a miss the title
 * query, one per title across instances), and that id is read through the ReadPipeline.
 */
@Injectable()
export class TitleReads {
  private readonly flights = new SingleFlight();

  constructor(
    private readonly pipeline: ReadPipeline,
    private readonly titles: TitleMap,
    private readonly negative: NegativeCache,
    private readonly near: NearCache,
    private readonly fence: WriteFence,
    private readonly clock: LogicalClock,
    private readonly policy: CachePolicy,
    @Inject(MOVIE_SOURCE) private readonly source: MovieSource,
  ) {}

  /** The title's id and its copy both in process memory, answered synchronously. */
  nearHit(lookup: TitleLookup, keys: LookupKeys): CacheAsideResult | null {
    const id = this.near.title(keys.title);
    const hit = id ? this.pipeline.nearHit(id) : null;
    return hit && answers(lookup, hit.movie) ? hit : null;
  }

  async read(
    lookup: TitleLookup,
    keys: LookupKeys,
    arrivedAt: Tick,
    deadline: ReadDeadline = NO_DEADLINE,
    reads?: FirstReads,
  ): Promise<ReadOutcome> {
    for (;;) {
      // A remembered absence is learned when the miss begins (begin-miss): no round trip for it here.
      const known = await this.resolve(keys, this.clock.tick(), false);
      if (typeof known === 'string') {
        const outcome = await this.pipeline.read(known, arrivedAt, false, deadline, reads);
        if (outcome.kind === 'movie' && answers(lookup, outcome.result.movie)) return outcome;
        // The id is gone or no longer has this title: ask MongoDB which movie has it now.
        this.near.forgetTitle(keys.title);
        await this.titles.forget(keys.title);
        continue;
      }
      if (known) return known;
      const outcome = await this.flights.run(
        keys.lease,
        arrivedAt,
        (flightDeadline) => this.miss(lookup, keys, flightDeadline),
        deadline,
      );
      if (outcome) return outcome;
    }
  }

  /** The title's cached id, or its remembered absence (`withAbsence`), or null. */
  private async resolve(
    keys: LookupKeys,
    readAt: Tick,
    withAbsence = true,
  ): Promise<Resolution | null> {
    const near = this.near.title(keys.title);
    if (near) return near;
    const seen = this.near.titleInvalidationCount();
    const id = await this.titles.resolve(keys.title);
    if (id) {
      this.near.keepTitle(keys.title, id, seen);
      return id;
    }
    return withAbsence && (await this.negative.isAbsent(keys.tag, keys.year))
      ? { kind: 'absent', freshAt: readAt }
      : null;
  }

  /** A title miss: the query names the id, then read as an id; a MISS even if its copy was cached. */
  private async miss(
    lookup: TitleLookup,
    keys: LookupKeys,
    deadline: ReadDeadline,
  ): Promise<ReadOutcome> {
    const seen = this.near.titleInvalidationCount();
    const { readAt, resolved, remembered } = await inSpan('cache.title_query', () =>
      this.query(lookup, keys, deadline),
    );
    if (typeof resolved !== 'string') return resolved;
    if (remembered) this.near.keepTitle(keys.title, resolved, seen);
    const outcome = await this.pipeline.read(resolved, readAt, false, deadline);
    return outcome.kind === 'movie' ? { ...outcome, result: miss(outcome.result.movie) } : outcome;
  }

  /** The title query, by the lease holder; other instances wait for its answer in the title map. */
  private async query(
    lookup: TitleLookup,
    keys: LookupKeys,
    deadline: ReadDeadline,
  ): Promise<{ readAt: Tick; resolved: Resolution; remembered?: boolean }> {
    const begunAt = this.clock.tick();
    const ticket = await this.fence.begin(keys.tag, keys.year);
    if (ticket.absent) return { readAt: begunAt, resolved: { kind: 'absent', freshAt: begunAt } };
    let ended = false;
    try {
      const other = ticket.lease
        ? null
        : await inSpan('cache.lease_wait', () =>
            poll(() => this.resolve(keys, this.clock.tick()), this.policy.fillLeaseMs, POLL_MS),
          );
      const readAt = this.clock.tick();
      if (other) return { readAt, resolved: other };
      const movie = await this.source.findByTitle(lookup.title, lookup.year, deadline);
      if (!movie) {
        const absent = await this.negative.afterMiss(keys.tag, keys.year, ticket.fence, readAt);
        return { readAt, resolved: absent };
      }
      // Remembering the title also releases the lease.
      const lease = { key: keys.lease, token: ticket.lease };
      const remembered = await this.titles.remember(
        keys.title,
        movie.id,
        keys.tag,
        ticket.fence,
        lease,
      );
      ended = true;
      return { readAt, resolved: movie.id, remembered };
    } finally {
      if (!ended) await this.fence.end(ticket, keys.tag, keys.year);
    }
  }
}
