import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { AdminOnly } from '../grpc/admin-token.guard';
import { liveDeadline, type DeadlineCall } from '../grpc/call-deadline';
import {
  MOVIE_SERVICE_NAME,
  type BatchGetMoviesRequest,
  type BatchGetMoviesResponse,
  type GetMovieRequest,
  type Movie,
  type MovieServiceController,
  type UpdateRatingRequest,
  type UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { CacheAside } from './cache/cache-aside.interceptor';
import { parseMovieLookup } from './movie-lookup';
import { MoviesService } from './movies.service';

/** GetMovie, BatchGetMovies and UpdateRating (each feature's controller serves its own RPCs). */
@Controller()
export class MoviesController implements Pick<MovieServiceController, 'updateRating'> {
  constructor(private readonly movies: MoviesService) {}

  /** Runs with CACHE_ENABLED=false only: CacheAside answers GetMovie from the movie cache. */
  @GrpcMethod(MOVIE_SERVICE_NAME)
  @CacheAside()
  getMovie(request: GetMovieRequest, _metadata: Metadata, call: DeadlineCall): Promise<Movie> {
    return this.movies.find(parseMovieLookup(request), liveDeadline(call));
  }

  @GrpcMethod(MOVIE_SERVICE_NAME)
  batchGetMovies(
    request: BatchGetMoviesRequest,
    metadata: Metadata,
    call: DeadlineCall,
  ): Promise<BatchGetMoviesResponse> {
    return this.movies.batchGet(request, metadata, liveDeadline(call));
  }

  @GrpcMethod(MOVIE_SERVICE_NAME)
  @AdminOnly()
  updateRating(request: UpdateRatingRequest): Promise<UpdateRatingResponse> {
    return this.movies.updateRating(request);
  }
}
