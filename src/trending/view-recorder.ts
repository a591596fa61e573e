import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { MovieReadEvents } from '../movies/movie-read-events';
import { LeaderboardProvider } from './leaderboard.provider';
import { UncountedTraffic } from './uncounted-traffic';

/** Every movie GetMovie serves (hit, miss or bypass) counts as one view, unless marked uncounted. */
@Injectable()
export class ViewRecorder implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    private readonly reads: MovieReadEvents,
    private readonly leaderboard: LeaderboardProvider,
    private readonly uncounted: UncountedTraffic,
  ) {}

  onModuleInit(): void {
    this.stop = this.reads.listen((movie, metadata) => {
      if (!this.uncounted.isUncounted(metadata)) this.leaderboard.recordView(movie.id, movie.title);
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
