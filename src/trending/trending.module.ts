import { Module } from '@nestjs/common';
import { MoviesModule } from '../movies/movies.module';
import { LeaderboardProvider } from './leaderboard.provider';
import { TrendingController } from './trending.controller';
import { StreamSlots } from './stream-slots';
import { TrendingFeed } from './trending-feed.service';
import { UncountedTraffic } from './uncounted-traffic';
import { ViewRecorder } from './view-recorder';

/** Views of the movies GetMovie serves, ranked on Redis sorted sets, and the StreamTrending feed. */
@Module({
  imports: [MoviesModule],
  controllers: [TrendingController],
  providers: [LeaderboardProvider, StreamSlots, TrendingFeed, ViewRecorder, UncountedTraffic],
  exports: [TrendingFeed, UncountedTraffic],
})
export class TrendingModule {}
