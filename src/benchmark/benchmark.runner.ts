import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { status, type ServiceError } from '@grpc/grpc-js';
import { FailedPreconditionError, ResourceExhaustedError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  CacheStatus,
  CacheTier,
  type RunBenchmarkResponse,
  type TrendingEntry,
} from '../generated/nest/movies/v1/movie_service';
import { createMovieClient } from '../grpc/grpc-client';
import { MovieCache } from '../movies/cache/movie-cache';
import { MoviesRepository } from '../movies/movies.repository';
import { UncountedTraffic } from '../trending/uncounted-traffic';
import { drive } from './drive';
import { ProbeClient } from './probe-client';
import { LatencyRecorder } from './latency-recorder';
import { requestSequence, type Workload } from './workload';

const TOP = 5;

interface Tally {
  hits: number;
  localHits: number;
  misses: number;
  notFound: number;
  errors: number;
  overall: LatencyRecorder;
  hit: LatencyRecorder;
  miss: LatencyRecorder;
}

/**
 * Replays a seeded workload through the real GetMovie path: a gRPC client calling this very
 * server, so interceptors, serialization and the network stack are in the numbers.
 */
@Injectable()
export class BenchmarkRunner {
  private running = false;

  constructor(
    private readonly repository: MoviesRepository,
    private readonly cache: MovieCache,
    private readonly uncounted: UncountedTraffic,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(workload: Workload, signal: AbortSignal): Promise<RunBenchmarkResponse> {
    if (this.running)
      throw new ResourceExhaustedError(
        'another benchmark run is in progress; try again when it ends',
      );
    this.running = true;
    try {
      return await this.runExclusive(workload, signal);
    } finally {
      this.running = false;
    }
  }

  private async runExclusive(
    workload: Workload,
    signal: AbortSignal,
  ): Promise<RunBenchmarkResponse> {
    const ids = await this.repository.firstIds(workload.keySpace);
    if (ids.length === 0)
      throw new FailedPreconditionError('the movies collection is empty: seed it first');
    if (!workload.warmStart) {
      await this.cache.evict(ids);
    }
    const sequence = requestSequence(workload, ids.length);
    const requested = new Uint32Array(ids.length);
    sequence.forEach((key) => (requested[key] += 1));

    const tls = this.config.grpc.tls;
    const client = createMovieClient(
      this.selfAddress(),
      tls && { ca: readFileSync(tls.certFile), anyHostName: true },
    );
    const probe = new ProbeClient(client, this.uncounted.metadata(), signal);
    const titles = new Map<string, string>();
    const tally: Tally = {
      hits: 0,
      localHits: 0,
      misses: 0,
      notFound: 0,
      errors: 0,
      overall: new LatencyRecorder(),
      hit: new LatencyRecorder(),
      miss: new LatencyRecorder(),
    };
    const started = performance.now();
    try {
      await drive(sequence, workload.concurrency, signal, async (key) => {
        const t0 = performance.now();
        try {
          const { movie, cacheStatus, cacheTier } = await probe.getMovie(ids[key]);
          const ms = performance.now() - t0;
          // An answer that is not the movie asked for is an error, whatever its latency.
          if (movie?.id !== ids[key]) {
            tally.errors += 1;
            return;
          }
          tally.overall.recordMs(ms);
          if (!titles.has(movie.id)) titles.set(movie.id, movie.title);
          if (cacheStatus === CacheStatus.CACHE_STATUS_HIT) {
            tally.hits += 1;
            if (cacheTier === CacheTier.CACHE_TIER_LOCAL) tally.localHits += 1;
            tally.hit.recordMs(ms);
          } else {
            tally.misses += 1;
            tally.miss.recordMs(ms);
          }
        } catch (error) {
          if ((error as ServiceError).code === status.NOT_FOUND) tally.notFound += 1;
          else tally.errors += 1;
        }
      });
    } finally {
      client.close();
    }
    const durationMs = performance.now() - started;
    const uncached = workload.compareUncached
      ? await this.replayUncached(ids, sequence, workload.concurrency, signal)
      : undefined;
    signal.throwIfAborted();

    const total = sequence.length;
    const distinct = requested.reduce((n, count) => n + (count > 0 ? 1 : 0), 0);
    const hit = tally.hit.stats();
    const miss = tally.miss.stats();
    return {
      totalRequests: total,
      hits: tally.hits,
      localHits: tally.localHits,
      misses: tally.misses,
      notFound: tally.notFound,
      errors: tally.errors,
      hitRatio: tally.hits + tally.misses === 0 ? 0 : tally.hits / (tally.hits + tally.misses),
      optimalHitRatio: 1 - distinct / total,
      overall: tally.overall.stats(),
      hitLatency: hit,
      missLatency: miss,
      uncachedLatency: uncached,
      speedup: hit.meanMs > 0 && miss.meanMs > 0 ? miss.meanMs / hit.meanMs : 0,
      throughputRps: total / (durationMs / 1000),
      durationMs,
      seed: workload.seed,
      top: this.top(ids, requested, titles),
    };
  }

  /** The same sequence straight against MongoDB: the baseline without cache or gRPC. */
  private async replayUncached(
    ids: string[],
    sequence: Uint32Array,
    concurrency: number,
    signal: AbortSignal,
  ) {
    const recorder = new LatencyRecorder();
    await drive(sequence, concurrency, signal, async (key) => {
      const t0 = performance.now();
      await this.repository.findById(ids[key]).catch(() => null);
      recorder.recordMs(performance.now() - t0);
    });
    return recorder.stats();
  }

  private top(ids: string[], requested: Uint32Array, titles: Map<string, string>): TrendingEntry[] {
    return [...requested.keys()]
      .filter((key) => requested[key] > 0)
      .sort((a, b) => requested[b] - requested[a] || (ids[a] < ids[b] ? -1 : 1))
      .slice(0, TOP)
      .map((key, index) => ({
        rank: index + 1,
        movieId: ids[key],
        title: titles.get(ids[key]) ?? '',
        views: requested[key],
        movie: undefined,
      }));
  }

  private selfAddress(): string {
    const host = ['0.0.0.0', '::', ''].includes(this.config.grpc.host)
      ? '127.0.0.1'
      : this.config.grpc.host;
    return `${host.includes(':') ? `[${host}]` : host}:${this.config.grpc.port}`;
  }
}
