import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import {
  TRENDING_ALL_KEY,
  TRENDING_TITLES_KEY,
  trendingBucketKey,
  trendingWindowKey,
} from '../redis/cache-keys';
import { RedisCircuit } from '../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../redis/redis-scripts';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { TrendingEntry } from '../generated/nest/movies/v1/movie_service';
import { MoviesRepository } from '../movies/movies.repository';
import { addTo, addToBucket, allTimeViews, countView, noViews } from './pending-views';
import { MAX_WINDOW_SECONDS, bucketStart, rankReply, toEntries, windowBuckets } from './ranking';

const MAX_TITLES_WRITTEN = 10_000;

/** View counts in Redis sorted sets: all-time and in time buckets for sliding windows. */
@Injectable()
export class LeaderboardProvider implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LeaderboardProvider.name);
  private pending = noViews();
  /** Titles this process wrote (bounded): a hot movie's title is not written again every flush. */
  private titlesWritten = new Map<string, string>();
  private flushing?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisCircuit,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: MoviesRepository,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.viewFlushMs);
    this.timer.unref();
  }

  /** Flushes what is still buffered, so a clean shutdown loses no views. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Counts one view; buffered and written in batches, off the GetMovie response path. */
  recordView(movieId: string, title: string, at = Date.now()): void {
    countView(this.pending, bucketStart(at, this.config.trendingBucketSeconds), movieId, title);
  }

  /** Writes buffered views; a part that failed stays buffered for the next try. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const { allTime, buckets, titles } = this.pending;
    if (allTime.size + buckets.size + titles.size === 0) return Promise.resolve();
    this.flushing = this.writePending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** The top movies of all time (windowSeconds 0) or of the last windowSeconds, ties by id. */
  async topMovies(windowSeconds: number, limit: number): Promise<TrendingEntry[]> {
    const keys =
      windowSeconds === 0
        ? [TRENDING_ALL_KEY]
        : [
            trendingWindowKey(windowSeconds),
            ...windowBuckets(Date.now(), windowSeconds, this.config.trendingBucketSeconds).map(
              trendingBucketKey,
            ),
          ];
    const reply = await this.redis.run('trending', () =>
      this.scripts.topMovies(keys.length, ...keys, limit),
    );
    const ranked = rankReply(reply, limit);
    return toEntries(ranked, await this.titlesOf(ranked.map((r) => r.movieId)));
  }

  /**
   * One pipeline per slot, as a cluster runs each pipeline on one node: all-time counts, the
   * buckets (one tag), the titles. A part that fails is buffered again, the others are not.
   */
  private async writePending(): Promise<void> {
    const views = this.pending;
    const allTime = allTimeViews(views);
    this.pending = noViews();
    // A title written and evicted since is read back from MongoDB by `titlesOf`.
    const titles = new Map([...views.titles].filter(([id, t]) => this.titlesWritten.get(id) !== t));
    // Each part: its size, its commands, what buffers it again if it fails, what follows it if not.
    const parts: Array<[number, (p: ChainableCommander) => unknown, () => void, (() => void)?]> = [
      [
        allTime.size,
        (p) => allTime.forEach((n, id) => p.zincrby(TRENDING_ALL_KEY, n, id)),
        () => allTime.forEach((n, id) => addTo(this.pending.allTime, id, n)),
      ],
      [
        views.bucketEntries,
        (p) => this.writeBuckets(p, views.buckets),
        () =>
          views.buckets.forEach((counts, bucket) =>
            // Summed into the all-time counts again at the next flush: taken out of them here.
            counts.forEach(
              (n, id) =>
                addToBucket(this.pending, bucket, id, n) && addTo(this.pending.allTime, id, -n),
            ),
          ),
      ],
      [
        titles.size,
        (p) => p.hset(TRENDING_TITLES_KEY, Object.fromEntries(titles)),
        () => titles.forEach((t, id) => this.pending.titles.set(id, t)),
        () => this.rememberTitles(titles),
      ],
    ];
    // One breaker call: a Redis outage counts once per flush, as one pipeline did.
    let sent = false;
    await this.redis
      .run('record_views', async (redis) => {
        sent = true;
        const written = await Promise.allSettled(
          parts.map(async ([size, write, , done]) => {
            if (size === 0) return;
            const pipeline = redis.pipeline();
            write(pipeline);
            const failed = (await pipeline.exec())?.find(([error]) => error);
            if (failed) throw failed[0];
            done?.();
          }),
        );
        const failures = written.filter((w): w is PromiseRejectedResult => {
          return w.status === 'rejected';
        });
        parts.forEach(([, , requeue], i) => written[i].status === 'rejected' && requeue());
        if (failures.length > 0) throw failures[0].reason;
      })
      .catch((error: Error) => {
        if (!sent) parts.forEach(([, , requeue]) => requeue());
        this.logger.warn(
          `views not written yet (${this.pending.bucketEntries} buffered): ${error.message}`,
        );
      });
  }

  private rememberTitles(titles: Map<string, string>): void {
    if (this.titlesWritten.size + titles.size > MAX_TITLES_WRITTEN) this.titlesWritten = new Map();
    titles.forEach((title, id) => this.titlesWritten.set(id, title));
  }

  private writeBuckets(
    pipeline: ChainableCommander,
    buckets: Map<number, Map<string, number>>,
  ): void {
    const ttl = MAX_WINDOW_SECONDS + 2 * this.config.trendingBucketSeconds;
    for (const [bucket, counts] of buckets) {
      const key = trendingBucketKey(bucket);
      counts.forEach((n, id) => pipeline.zincrby(key, n, id));
      pipeline.expire(key, ttl);
    }
  }

  /** Titles from the Redis hash; any missing are read from MongoDB in one query and remembered. */
  private async titlesOf(ids: string[]): Promise<Map<string, string>> {
    const titles = new Map<string, string>();
    if (ids.length === 0) return titles;
    const cached = await this.redis.run('trending', (redis) =>
      redis.hmget(TRENDING_TITLES_KEY, ...ids),
    );
    const missing: string[] = [];
    ids.forEach((id, i) => (cached[i] === null ? missing.push(id) : titles.set(id, cached[i]!)));
    if (missing.length > 0) {
      const found = await this.repository.findTitles(missing);
      for (const [id, title] of found) titles.set(id, title);
      if (found.size > 0)
        await this.redis
          .run('trending', (redis) => redis.hset(TRENDING_TITLES_KEY, Object.fromEntries(found)))
          .catch(() => 0);
    }
    return titles;
  }
}
