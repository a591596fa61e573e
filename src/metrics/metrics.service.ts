import { Injectable } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';
import { HotCounts, type HotCount } from './hot-counts';
import { HotHistogram } from './hot-histogram';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Every Prometheus metric of the service, on a registry of this app instance. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly hot = new HotCounts();

  readonly cacheLookups = new Counter({
    name: 'movie_cache_lookups_total',
    help: 'GetMovie results by cache status (hit, miss, bypass, stale)',
    labelNames: ['status'] as const,
    registers: [this.registry],
    collect: () => this.hot.addAll(),
  });

  readonly cacheHits = new Counter({
    name: 'movie_cache_hits_total',
    help: 'GetMovie hits by the tier that answered (local: this near-cache, redis)',
    labelNames: ['tier'] as const,
    registers: [this.registry],
    collect: () => this.hot.addAll(),
  });

  readonly cacheFills = new Counter({
    name: 'movie_cache_fills_total',
    help: 'Cache-aside fills by outcome: stored, cached (a copy as new was there), fenced or unfenced (refused: the miss read again)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly cacheRefreshes = new Counter({
    name: 'movie_cache_refreshes_total',
    help: 'Refresh-ahead of copies close to expiry, by outcome (stored, cached, fenced, unfenced, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Observed on every GetMovie: a hot histogram (see HotHistogram). */
  readonly getMovieDuration = new HotHistogram(
    'movie_getmovie_duration_seconds',
    'GetMovie handling time by cache status',
    LATENCY_BUCKETS,
    this.registry,
  );

  readonly rpcs = new Counter({
    name: 'movie_grpc_requests_total',
    help: 'Finished RPCs by method and gRPC status code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
    collect: () => this.hot.addAll(),
  });

  readonly mongoQueries = new Histogram({
    name: 'movie_mongodb_query_duration_seconds',
    help: 'MongoDB queries by operation and outcome (count is the query count)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly redisErrors = new Counter({
    name: 'movie_redis_errors_total',
    help: 'Redis commands that failed (the caller fell back or retried)',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  /** Read when /metrics is scraped; set by the trending feed. */
  openTrendingStreams: () => number = () => 0;

  readonly trendingStreams: Gauge = new Gauge({
    name: 'movie_trending_open_streams',
    help: 'StreamTrending calls open on this instance',
    registers: [this.registry],
    collect: (): void => this.trendingStreams.set(this.openTrendingStreams()),
  });

  /** Read when /metrics is scraped; set by the ops module. */
  nearCacheState: () => { serving: boolean; entries: number } = () => ({
    serving: false,
    entries: 0,
  });

  readonly nearCacheServing: Gauge = new Gauge({
    name: 'movie_near_cache_serving',
    help: '1 while this instance may answer from its near-cache (enabled, and its coherence lease current)',
    registers: [this.registry],
    collect: (): void => this.nearCacheServing.set(this.nearCacheState().serving ? 1 : 0),
  });

  readonly nearCacheEntries: Gauge = new Gauge({
    name: 'movie_near_cache_entries',
    help: 'Movies held in this instance’s near-cache',
    registers: [this.registry],
    collect: (): void => this.nearCacheEntries.set(this.nearCacheState().entries),
  });

  /** Read when /metrics is scraped; set by the Redis circuit. */
  redisBreakerState: () => 'closed' | 'half-open' | 'open' = () => 'closed';

  readonly redisBreaker: Gauge = new Gauge({
    name: 'movie_redis_breaker_state',
    help: 'The Redis circuit breaker: 0 closed, 1 half-open (probing), 2 open (Redis calls fail at once)',
    registers: [this.registry],
    collect: (): void => this.redisBreaker.set(BREAKER_VALUE[this.redisBreakerState()]),
  });

  readonly trendingStreamsRefused = new Counter({
    name: 'movie_trending_streams_refused_total',
    help: 'StreamTrending calls refused with RESOURCE_EXHAUSTED, by the cap that was full (peer: TRENDING_MAX_STREAMS_PER_PEER, instance: TRENDING_MAX_STREAMS)',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });

  readonly trendingSnapshotsReplaced = new Counter({
    name: 'movie_trending_snapshots_replaced_total',
    help: 'StreamTrending snapshots replaced by a newer one before they were sent, as the client was not reading (its previous snapshot still unsent)',
    registers: [this.registry],
  });

  readonly benchmarkRuns = new Counter({
    name: 'movie_benchmark_runs_total',
    help: 'RunBenchmark runs by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly feedChanges = new Counter({
    name: 'movie_cache_feed_changes_total',
    help: 'Changes the change feed applied, by operation (insert, update, replace, delete, drop, rename, invalidate)',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  readonly feedLag = new Histogram({
    name: 'movie_cache_feed_lag_seconds',
    help: 'From the database making a change to the change feed having applied it to every cache',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly feedLeader = new Gauge({
    name: 'movie_cache_feed_leader',
    help: '1 while this instance reads the change feed for the fleet',
    registers: [this.registry],
  });

  readonly feedResumes = new Counter({
    name: 'movie_cache_feed_resumes_total',
    help: 'Times the change feed resumed from its stored token (after a failure or a takeover)',
    registers: [this.registry],
  });

  readonly feedFlushes = new Counter({
    name: 'movie_cache_feed_flushes_total',
    help: 'Flushes of every cached movie by the change feed, by reason (history-lost, no-token, collection)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly consistencySamples = new Counter({
    name: 'movie_cache_consistency_samples_total',
    help: 'Cache hits recorded by the consistency checker, by the tier that answered (local, redis)',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });

  readonly consistencyChecks = new Counter({
    name: 'movie_cache_consistency_checks_total',
    help: 'Sampled hits checked against MongoDB, by horizon (seconds after the answer) and outcome: consistent, inconsistent (still served, older than a write MongoDB had before the answer), undecided (the write may be concurrent), skipped',
    labelNames: ['horizon', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly consistencyHeals = new Counter({
    name: 'movie_cache_consistency_heals_total',
    help: 'Copies the consistency checker found inconsistent and dropped, by the tier that served them',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A child of `counter` for a per-call path: counted in a plain number, added to the counter
   * whenever a metric is read (a scrape, or `get()`).
   */
  hotCount<T extends string>(counter: Counter<T>, labels: LabelValues<T>): HotCount {
    return this.hot.count(counter, labels);
  }
}
