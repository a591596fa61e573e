import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, tap } from 'rxjs';
import { BenchmarkTraffic } from '../benchmark/benchmark-traffic';
import type { GetMovieResponse } from '../generated/nest/movies/v1/movie_service';
import { LeaderboardProvider } from './leaderboard.provider';

/** Every successful GetMovie (hit, miss or bypass) counts as one view; RunBenchmark's own calls do not. */
@Injectable()
export class RecordViewInterceptor implements NestInterceptor<GetMovieResponse, GetMovieResponse> {
  constructor(
    private readonly leaderboard: LeaderboardProvider,
    private readonly benchmarkTraffic: BenchmarkTraffic,
  ) {}

  intercept(
    context: ExecutionContext,
    next: CallHandler<GetMovieResponse>,
  ): Observable<GetMovieResponse> {
    if (this.benchmarkTraffic.isBenchmark(context.switchToRpc().getContext<Metadata>())) {
      return next.handle();
    }
    return next.handle().pipe(
      tap((response) => {
        if (response.movie) this.leaderboard.recordView(response.movie.id, response.movie.title);
      }),
    );
  }
}
