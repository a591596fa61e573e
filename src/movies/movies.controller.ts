import { Controller } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';
import { AdminOnly } from '../common/admin-token.guard';
import { NotImplementedError } from '../common/errors';
import { CacheAside } from '../cache/cache-aside.interceptor';
import { CacheStatsService } from '../cache/cache-stats.service';
import {
  CacheStatus,
  MovieServiceControllerMethods,
  type GetCacheStatsResponse,
  type GetMovieRequest,
  type GetMovieResponse,
  type MovieServiceController,
  type RunBenchmarkResponse,
  type StreamTrendingResponse,
  type UpdateRatingRequest,
  type UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { MoviesService } from './movies.service';

@Controller()
@MovieServiceControllerMethods()
export class MoviesController implements MovieServiceController {
  constructor(
    private readonly movies: MoviesService,
    private readonly stats: CacheStatsService,
  ) {}

  @CacheAside()
  async getMovie(request: GetMovieRequest): Promise<GetMovieResponse> {
    const movie = await this.movies.getMovie(request);
    return { movie, cacheStatus: CacheStatus.CACHE_STATUS_UNSPECIFIED };
  }

  @AdminOnly()
  updateRating(request: UpdateRatingRequest): Promise<UpdateRatingResponse> {
    return this.movies.updateRating(request);
  }

  streamTrending(): Observable<StreamTrendingResponse> {
    return throwError(() => new NotImplementedError('StreamTrending'));
  }

  @AdminOnly()
  runBenchmark(): Promise<RunBenchmarkResponse> {
    return Promise.reject(new NotImplementedError('RunBenchmark'));
  }

  getCacheStats(): Promise<GetCacheStatsResponse> {
    return this.stats.getCacheStats();
  }
}
