import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import type { GetMovieResponse } from '../generated/nest/movies/v1/movie_service';
import { LeaderboardProvider } from './leaderboard.provider';

/** Every successful GetMovie (hit, miss or bypass) counts as one view of that movie. */
@Injectable()
export class RecordViewInterceptor implements NestInterceptor<GetMovieResponse, GetMovieResponse> {
  constructor(private readonly leaderboard: LeaderboardProvider) {}

  intercept(
    _context: ExecutionContext,
    next: CallHandler<GetMovieResponse>,
  ): Observable<GetMovieResponse> {
    return next.handle().pipe(
      tap((response) => {
        if (response.movie) this.leaderboard.recordView(response.movie.id, response.movie.title);
      }),
    );
  }
}
