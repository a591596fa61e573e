import { Module } from '@nestjs/common';
import { BenchmarkModule } from '../benchmark/benchmark.module';
import { MovieDataModule } from '../movies/movie-data.module';
import { LeaderboardProvider } from './leaderboard.provider';
import { RecordViewInterceptor } from './record-view.interceptor';
import { TrendingFeed } from './trending-feed.service';

@Module({
  imports: [MovieDataModule, BenchmarkModule],
  providers: [LeaderboardProvider, TrendingFeed, RecordViewInterceptor],
  exports: [LeaderboardProvider, TrendingFeed, RecordViewInterceptor],
})
export class LeaderboardModule {}
