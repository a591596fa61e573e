import { Controller, UseInterceptors } from '@nestjs/common';
import { Observable, defer } from 'rxjs';
import { AdminOnly } from '../common/admin-token.guard';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { BenchmarkService } from '../benchmark/benchmark.service';
import { CacheAsideInterceptor } from '../cache/cache-aside.interceptor';
import { CacheStatsService } from '../cache/cache-stats.service';
import {
  CacheStatus,
  MovieServiceControllerMethods,
  type GetCacheStatsResponse,
  type GetMovieRequest,
  type GetMovieResponse,
  type MovieServiceController,
  type RunBenchmarkRequest,
  type RunBenchmarkResponse,
  type StreamTrendingRequest,
  type StreamTrendingResponse,
  type UpdateRatingRequest,
  type UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { RecordViewInterceptor } from '../leaderboard/record-view.interceptor';
import { TrendingFeed } from '../leaderboard/trending-feed.service';
import { parseTrendingRequest } from '../leaderboard/trending-request';
import { MoviesService } from './movies.service';

@Controller()
@MovieServiceControllerMethods()
export class MoviesController implements MovieServiceController {
  constructor(
    private readonly movies: MoviesService,
    private readonly stats: CacheStatsService,
    private readonly trending: TrendingFeed,
    private readonly benchmark: BenchmarkService,
  ) {}

  // Outermost first: views are recorded for cache hits and misses alike.
  @UseInterceptors(RecordViewInterceptor, CacheAsideInterceptor)
  async getMovie(request: GetMovieRequest): Promise<GetMovieResponse> {
    const movie = await this.movies.getMovie(request);
    return { movie, cacheStatus: CacheStatus.CACHE_STATUS_UNSPECIFIED };
  }

  @AdminOnly()
  updateRating(request: UpdateRatingRequest): Promise<UpdateRatingResponse> {
    return this.movies.updateRating(request);
  }

  streamTrending(request: StreamTrendingRequest): Observable<StreamTrendingResponse> {
    return defer(() => this.trending.snapshots(parseTrendingRequest(request)));
  }

  @AdminOnly()
  runBenchmark(
    request: RunBenchmarkRequest,
    _metadata?: unknown,
    call?: ServerUnaryCall<RunBenchmarkRequest, RunBenchmarkResponse>,
  ): Promise<RunBenchmarkResponse> {
    return this.benchmark.runBenchmark(request, call);
  }

  getCacheStats(): Promise<GetCacheStatsResponse> {
    return this.stats.getCacheStats();
  }
}
