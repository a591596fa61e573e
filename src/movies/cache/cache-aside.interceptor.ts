import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, defer, map, of } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import {
  CacheStatus,
  type GetMovieRequest,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { liveDeadline, type DeadlineCall } from '../../grpc/call-deadline';
import { ConsistencySampler } from '../consistency/consistency-sampler';
import { parseMovieLookup, type MovieLookup } from '../movie-lookup';
import { MovieReadEvents } from '../movie-read-events';
import { lookupKeys } from './lookup-keys';
import { MovieCache } from './movie-cache';
import { answer, type CacheAsideResult } from './read-outcome';

/**
 * Cache-aside for GetMovie: answered from the movie cache, which reads MongoDB on a miss; the
 * handler runs only with CACHE_ENABLED=false. Each answer is counted, announced (trending) and
 * offered to the consistency checker's sampler.
 */
@Injectable()
export class CacheAsideInterceptor implements NestInterceptor<Movie, GetMovieResponse> {
  constructor(
    private readonly cache: MovieCache,
    private readonly reads: MovieReadEvents,
    private readonly consistency: ConsistencySampler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Movie>): Observable<GetMovieResponse> {
    // The call's arguments as Nest hands them (request, metadata): switchToRpc() builds closures.
    const lookup = parseMovieLookup(context.getArgByIndex<GetMovieRequest>(0));
    const metadata = context.getArgByIndex<Metadata>(1);
    // The uncached baseline: every read from MongoDB, through the handler.
    if (!this.config.cacheEnabled) {
      return next
        .handle()
        .pipe(
          map((movie) =>
            this.served(answer(movie, CacheStatus.CACHE_STATUS_BYPASS), metadata, lookup),
          ),
        );
    }
    // A title's keys are resolved once for both steps; an id needs none on the hot path.
    const keys = lookup.kind === 'title' ? lookupKeys(lookup) : undefined;
    // The hot path: a near-cache hit needs no promise, and its answer is built once per copy.
    const hit = this.cache.nearHit(lookup, keys);
    if (hit) return of(this.served(hit, metadata, lookup));
    const deadline = liveDeadline(context.getArgByIndex<DeadlineCall | undefined>(2));
    return defer(() => {
      const arrivedAt = performance.now();
      return this.cache
        .read(lookup, keys, deadline)
        .then((result) => this.served(result, metadata, lookup, arrivedAt));
    });
  }

  /** `arrivedAt`: when the call began reading the cache, unless it was answered at once. */
  private served(
    response: CacheAsideResult,
    metadata: Metadata,
    lookup: MovieLookup,
    arrivedAt?: number,
  ): CacheAsideResult {
    this.consistency.sample(lookup, response, arrivedAt);
    this.cache.count(response.cacheStatus);
    // A Redis hit is counted by its reference: its movie is decoded only if read.
    this.reads.served(response.ref ?? response.movie, metadata);
    return response;
  }
}

/** Serves the decorated GetMovie handler through the cache (see CacheAsideInterceptor). */
export const CacheAside = () => UseInterceptors(CacheAsideInterceptor);
