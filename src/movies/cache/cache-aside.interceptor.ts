import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, defer, lastValueFrom, of } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type {
  GetMovieRequest,
  GetMovieResponse,
  Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { lookupOf } from '../movie-lookup';
import { MovieReadEvents } from '../movie-read-events';
import { CacheAsideReader } from './cache-aside.reader';
import type { CacheAsideResult } from './read-outcome';
import { CacheCounters } from './cache-counters';

/**
 * Cache-aside around a handler that loads a movie from MongoDB: the handler runs only on a miss
 * (see CacheAsideReader), and the interceptor answers GetMovie with the movie and its cache status.
 * Its bookkeeping: each answer is counted (CacheCounters) and announced on MovieReadEvents (views
 * for trending), both in process.
 */
@Injectable()
export class CacheAsideInterceptor implements NestInterceptor<Movie, GetMovieResponse> {
  constructor(
    private readonly reader: CacheAsideReader,
    private readonly reads: MovieReadEvents,
    private readonly counters: CacheCounters,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Movie>): Observable<GetMovieResponse> {
    const rpc = context.switchToRpc();
    const lookup = lookupOf(rpc.getData<GetMovieRequest>());
    const served = (response: CacheAsideResult) => {
      this.counters.record(response.cacheStatus);
      this.reads.served$.next({ movie: response.movie, metadata: rpc.getContext<Metadata>() });
      return response;
    };
    // The hot path: a near-cache hit needs no promise.
    const local = this.config.cacheEnabled ? this.reader.local(lookup) : null;
    if (local) return of(served(local));
    const load = () => lastValueFrom(next.handle());
    return defer(async () =>
      served(
        // CACHE_ENABLED=false: the uncached baseline, every read from MongoDB.
        this.config.cacheEnabled
          ? await this.reader.read(lookup, load)
          : await this.reader.bypass(load),
      ),
    );
  }
}

/** Serves the decorated GetMovie handler through the cache (see CacheAsideInterceptor). */
export const CacheAside = () => UseInterceptors(CacheAsideInterceptor);
