import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import { inSpan } from '../../telemetry/tracer';
import { MovieCache } from '../cache/movie-cache';
import {
  HistoryLostError,
  type ChangeBatch,
  type ChangeSource,
  type MovieChange,
} from './change-source';
import { chooseSource } from './choose-source';
import { FeedLeader } from './feed-leader';
import { FeedProgress, type ChangeFeedStats, type FlushReason } from './feed-progress';

const COLLECTION_WIDE = new Set<MovieChange['op']>(['drop', 'rename', 'invalidate']);
const RETRY_MS = 500;
const PRUNE_EVERY_MS = 60_000;

/**
 * Writes made to MongoDB by anyone, applied to every cache: the leader of the fleet follows the
 * source from the stored token, applies each batch, then stores the token after it. When the
 * token cannot be resumed, every cached movie is flushed instead: the feed never skips silently.
 */
@Injectable()
export class ChangeFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeFeed.name);
  private readonly stopping = new AbortController();
  private source?: ChangeSource;
  private running?: Promise<void>;
  private lastError = '';
  private readonly progress: FeedProgress;

  constructor(
    private readonly leader: FeedLeader,
    private readonly cache: MovieCache,
    metrics: MetricsService,
    @InjectConnection() private readonly connection: Connection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.progress = new FeedProgress(metrics);
  }

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.source?.close().catch(() => undefined);
  }

  stats(): ChangeFeedStats {
    return this.progress.stats();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted && !this.source) {
      try {
        const choice = await chooseSource(this.config.changeFeed, this.connection);
        if ('off' in choice) {
          this.logger.warn(
            `change feed off (${choice.off}): writes made outside the service are seen once cached copies expire (CACHE_TTL_SECONDS)`,
          );
          this.progress.state = 'off';
          return;
        }
        this.source = choice.source;
        this.progress.source = choice.source.name;
        this.logger.log(`change feed on: ${choice.source.name}`);
      } catch (error) {
        this.failed(error);
        await pause(RETRY_MS, signal);
      }
    }
    while (!signal.aborted) {
      try {
        if (await this.leader.lead()) await this.follow(this.source!);
        else this.progress.state = 'standby';
        await pause(this.leader.leaseMs / 4, signal);
      } catch (error) {
        this.failed(error);
        // Whatever failed may be this instance's alone (its path to the database): another may
        // lead meanwhile, from the stored token. A standby's resign changes nothing.
        await this.leader.resign();
        await pause(Math.max(RETRY_MS, this.leader.leaseMs / 2), signal);
      }
    }
    await this.leader.resign();
  }

  /** Reads the source while this instance holds the lease. */
  private async follow(source: ChangeSource): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const lease = new AbortController();
    const stop = () => lease.abort();
    // A shutdown that came while the lease was being won has already fired: it must still stop us.
    const following = AbortSignal.any([lease.signal, this.stopping.signal]);
    const renew = setInterval(() => {
      this.leader.lead().then((held) => held || stop(), stop);
    }, this.leader.leaseMs / 3);
    const prune = setInterval(() => {
      // A failed prune is retried next time; the feed itself is fine, so its state stays.
      source
        .prune?.(this.config.changeFeed.retentionMs)
        .catch((error: unknown) => this.logger.warn(`change feed: prune failed: ${String(error)}`));
    }, PRUNE_EVERY_MS);
    this.progress.leader = true;
    try {
      let token = await this.leader.token();
      if (token === null) token = await this.restart(source, 'no-token');
      else {
        // Resumed once the source answers: one it cannot reach keeps the feed recovering.
        await source.now();
        this.progress.resumed();
      }
      for (;;) {
        try {
          this.progress.state = 'leading';
          await source.follow(token, (batch) => this.apply(batch, lease), following);
          return;
        } catch (error) {
          if (!(error instanceof HistoryLostError)) throw error;
          token = await this.restart(source, 'history-lost');
        }
      }
    } finally {
      clearInterval(renew);
      clearInterval(prune);
      this.progress.leader = false;
    }
  }

  private async apply(batch: ChangeBatch, lease: AbortController): Promise<void> {
    const { changes } = batch;
    if (changes.length > 0)
      // A trace of its own per batch: the repairs, invalidations and acks it sends.
      await inSpan('change_feed.apply', () => this.invalidate(changes), {
        root: true,
        attributes: {
          'change_feed.source': this.progress.source,
          'change_feed.changes': changes.length,
          'change_feed.ops': [...new Set(changes.map((change) => change.op))],
        },
      });
    this.progress.applied(changes);
    if (!(await this.leader.save(batch.token))) lease.abort();
    this.lastError = '';
  }

  private async invalidate(changes: MovieChange[]): Promise<void> {
    if (changes.some((change) => COLLECTION_WIDE.has(change.op))) return this.flush('collection');
    await this.cache.applyExternalWrites(changes);
  }

  /** A start with nothing to resume from: the position now, and every cached movie flushed. */
  private async restart(source: ChangeSource, reason: FlushReason): Promise<string> {
    const token = await source.now();
    await this.flush(reason);
    await this.leader.save(token);
    return token;
  }

  private async flush(reason: FlushReason): Promise<void> {
    this.logger.warn(`change feed: ${reason}: every cached movie flushed`);
    await this.cache.flush();
    this.progress.flushed(reason);
  }

  private failed(error: unknown): void {
    if (this.stopping.signal.aborted) return;
    this.progress.state = 'recovering';
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastError) this.logger.warn(`change feed: ${message}; retrying`);
    this.lastError = message;
  }
}

/** Waits `ms`, or less if `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
