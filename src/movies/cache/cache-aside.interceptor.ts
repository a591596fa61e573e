import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type {
  GetMovieRequest,
  GetMovieResponse,
  Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { lookupOf } from '../movie-lookup';
import { MovieReadEvents } from '../movie-read-events';
import { CacheAsideReader } from './cache-aside.reader';
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
    const load = () => lastValueFrom(next.handle());
    return defer(async () => {
      // CACHE_ENABLED=false: the uncached baseline, every read from MongoDB.
      const response = this.config.cacheEnabled
        ? await this.reader.read(lookup, load)
        : await this.reader.bypass(load);
      this.counters.record(response.cacheStatus);
      this.reads.served$.next({ movie: response.movie, metadata: rpc.getContext<Metadata>() });
      return response;
    });
  }
}

/** Serves the decorated GetMovie handler through the cache (see CacheAsideInterceptor). */
export const CacheAside = () => UseInterceptors(CacheAsideInterceptor);
