import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { DomainError } from '../../common/errors';
import type {
  ConsistencyHorizon,
  ConsistencyStats,
} from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import { inSpan } from '../../telemetry/tracer';
import { MovieCache, type PeekedCopy } from '../cache/movie-cache';
import { describeLookup, type MovieLookup } from '../movie-lookup';
import { MoviesRepository } from '../movies.repository';
import { ConsistencyPolicy } from './consistency-policy';
import { ConsistencySampler, tierLabel, type Observation } from './consistency-sampler';
import { judge, servedAgain, type Outcome } from './consistency-rule';
import { SeenVersions, type MongoVersion } from './seen-versions';

/** A sample due at one of its horizons (the index into the policy's horizons). */
interface Due {
  observation: Observation;
  horizon: number;
}

const lookupKey = (lookup: MovieLookup) =>
  lookup.kind === 'id' ? lookup.id : `t:${lookup.year ?? 0}:${lookup.title}`;

/**
 * The live consistency checker: every sampled hit is checked at each horizon after it was served.
 * Is the copy still what this instance would answer, and did MongoDB already hold another
 * version before the answer (consistency-rule.ts)? Inconsistent copies are logged, counted and,
 * with CONSISTENCY_HEAL, dropped. It runs on a timer, reads at most readsInFlight at a time, and
 * skips while Redis's breaker is open or MongoDB is unreachable.
 */
@Injectable()
export class ConsistencyChecker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConsistencyChecker.name);
  private readonly instance = `${hostname()}:${process.pid}`;
  /** Per horizon: the number of the next sample to check there. */
  private readonly cursors: number[];
  private readonly counts: Array<Record<Outcome, number>>;
  private readonly seen: SeenVersions;
  private heals = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly policy: ConsistencyPolicy,
    private readonly sampler: ConsistencySampler,
    private readonly cache: MovieCache,
    private readonly repository: MoviesRepository,
    private readonly metrics: MetricsService,
  ) {
    this.cursors = policy.horizonsSeconds.map(() => 0);
    this.counts = policy.horizonsSeconds.map(() => ({
      consistent: 0,
      inconsistent: 0,
      undecided: 0,
      skipped: 0,
    }));
    this.seen = new SeenVersions(policy.versionsRemembered);
  }

  onApplicationBootstrap(): void {
    if (!this.policy.enabled) return;
    this.timer = setInterval(() => {
      this.running ??= this.checkDue()
        .catch((error: unknown) => this.logger.warn(`checks failed: ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, this.policy.tickMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Checks every sample whose horizon has come, one lookup at a time per read slot. */
  async checkDue(now = performance.now()): Promise<void> {
    const byLookup = new Map<string, Due[]>();
    this.policy.horizonsSeconds.forEach((seconds, horizon) => {
      const ms = seconds * 1000;
      for (; this.cursors[horizon] < this.sampler.recorded; this.cursors[horizon] += 1) {
        const observation = this.sampler.observation(this.cursors[horizon]);
        // Overwritten before its check: the checker fell that far behind.
        if (!observation) this.count(horizon, 'skipped');
        else if (observation.at + ms > now) break;
        else {
          const key = lookupKey(observation.lookup);
          const group = byLookup.get(key) ?? [];
          group.push({ observation, horizon });
          byLookup.set(key, group);
        }
      }
    });
    const groups = [...byLookup.entries()];
    const next = async (): Promise<void> => {
      for (let group = groups.shift(); group; group = groups.shift()) await this.check(...group);
    };
    await Promise.all(Array.from({ length: this.policy.readsInFlight }, next));
  }

  /** The samples of one lookup due now: one look at the cache, one MongoDB read if still served. */
  private async check(key: string, due: Due[]): Promise<void> {
    const { lookup } = due[0].observation;
    let peeked: PeekedCopy | null;
    let mongo: MongoVersion | undefined;
    let readAt = 0;
    try {
      peeked = await this.cache.peek(lookup);
      const stillServed = due.some((d) => servedAgain(d.observation, peeked));
      if (stillServed && !this.repository.unavailable) {
        mongo =
          lookup.kind === 'id'
            ? await this.repository.checkById(lookup.id)
            : await this.repository.checkByTitle(lookup.title, lookup.year);
        readAt = performance.now();
      }
    } catch (error) {
      // Redis away (its breaker open), MongoDB away or slow: nothing is judged, nothing healed.
      if (!(error instanceof DomainError))
        this.logger.warn(`check of ${describeLookup(lookup)} failed: ${String(error)}`);
      for (const d of due) this.count(d.horizon, 'skipped');
      return;
    }
    const firstSeenAt = mongo === undefined ? Infinity : this.seen.note(key, mongo, readAt);
    const stale: Due[] = [];
    for (const d of due) {
      const outcome = judge(d.observation, peeked, mongo, firstSeenAt);
      this.count(d.horizon, outcome);
      if (outcome === 'inconsistent') stale.push(d);
    }
    if (stale.length > 0) await this.found(stale, mongo ?? null);
  }

  /** Inconsistent samples of one lookup: a warning and a trace each, and one heal. */
  private async found(stale: Due[], mongo: MongoVersion): Promise<void> {
    for (const { observation, horizon } of stale) {
      const { lookup, id, revision, tier, served } = observation;
      const seconds = this.policy.horizonsSeconds[horizon];
      await inSpan(
        'consistency.inconsistent',
        () => {
          this.logger.warn(
            `inconsistent: movie ${id} (${describeLookup(lookup)}) served at revision ${revision} ` +
              `from ${tierLabel(tier)} on ${this.instance}, still served ${seconds} s later; MongoDB ` +
              `has ${mongo ? `${mongo.id} at revision ${mongo.revision}` : 'no such movie'} since before the answer` +
              (this.policy.heal ? '; healing' : ''),
          );
          return Promise.resolve();
        },
        {
          root: true,
          links: served ? [{ context: served }] : [],
          attributes: {
            'movie.id': id,
            'movie.revision': revision,
            'mongodb.revision': mongo?.revision ?? -1,
            'cache.tier': tierLabel(tier),
            'consistency.horizon_seconds': seconds,
            'service.instance.id': this.instance,
          },
        },
      );
    }
    if (!this.policy.heal) return;
    const { lookup, id, tier } = stale[0].observation;
    const title = lookup.kind === 'title' ? { title: lookup.title, year: lookup.year } : undefined;
    try {
      await this.cache.heal(id, title);
      this.heals += 1;
      this.metrics.consistencyHeals.inc({ tier: tierLabel(tier) });
    } catch (error) {
      this.logger.warn(`could not heal movie ${id}: ${(error as Error).message}`);
    }
  }

  private count(horizon: number, outcome: Outcome): void {
    this.counts[horizon][outcome] += 1;
    const label = `${this.policy.horizonsSeconds[horizon]}s`;
    this.metrics.consistencyChecks.inc({ horizon: label, outcome });
  }

  stats(): ConsistencyStats {
    const horizons: ConsistencyHorizon[] = this.policy.horizonsSeconds.map((seconds, i) => {
      const { consistent, inconsistent, undecided, skipped } = this.counts[i];
      const checks = consistent + inconsistent;
      const nines = ConsistencyPolicy.nines(checks, inconsistent);
      return { seconds, checks, inconsistent, undecided, skipped, nines };
    });
    return {
      enabled: this.policy.enabled,
      sampleRate: this.policy.sampleRate,
      heal: this.policy.heal,
      ...this.sampler.counts(),
      heals: this.heals,
      horizons,
    };
  }
}
