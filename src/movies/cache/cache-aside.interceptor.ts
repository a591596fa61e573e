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
import { lookupOf } from '../movie-lookup';
import { MovieReadEvents } from '../movie-read-events';
import { lookupKeys } from './lookup-keys';
import { MovieCache } from './movie-cache';
import { answer, type CacheAsideResult } from './read-outcome';

/**
 * Cache-aside for GetMovie: answered from the movie cache, which reads MongoDB on a miss; the
 * handler runs only with CACHE_ENABLED=false. Each answer is counted and announced (trending).
 */
@Injectable()
export class CacheAsideInterceptor implements NestInterceptor<Movie, GetMovieResponse> {
  constructor(
    private readonly cache: MovieCache,
    private readonly reads: MovieReadEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Movie>): Observable<GetMovieResponse> {
    const rpc = context.switchToRpc();
    const lookup = lookupOf(rpc.getData<GetMovieRequest>());
    const served = (response: CacheAsideResult) => {
      this.cache.count(response.cacheStatus);
      this.reads.served$.next({ movie: response.movie, metadata: rpc.getContext<Metadata>() });
      return response;
    };
    // The uncached baseline: every read from MongoDB, through the handler.
    if (!this.config.cacheEnabled) {
      return next
        .handle()
        .pipe(map((movie) => served(answer(movie, CacheStatus.CACHE_STATUS_BYPASS))));
    }
    const keys = lookupKeys(lookup);
    // The hot path: a near-cache hit needs no promise.
    const local = this.cache.nearHit(lookup, keys);
    if (local) return of(served(local));
    return defer(async () => served(await this.cache.read(lookup, keys)));
  }
}

/** Serves the decorated GetMovie handler through the cache (see CacheAsideInterceptor). */
export const CacheAside = () => UseInterceptors(CacheAsideInterceptor);
