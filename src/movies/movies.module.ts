import { Module } from '@nestjs/common';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { CacheAsideInterceptor } from '../cache/cache-aside.interceptor';
import { CacheStatsService } from '../cache/cache-stats.service';
import { WriteThroughHandler } from '../cache/write-through.handler';
import { HealthMonitor } from '../health/health.monitor';
import { BenchmarkModule } from '../benchmark/benchmark.module';
import { LeaderboardModule } from '../leaderboard/leaderboard.module';
import { MovieDataModule } from './movie-data.module';
import { MoviesController } from './movies.controller';
import { MoviesService } from './movies.service';

@Module({
  imports: [MovieDataModule, LeaderboardModule, BenchmarkModule],
  controllers: [MoviesController],
  providers: [
    MoviesService,
    CacheAsideInterceptor,
    WriteThroughHandler,
    CacheStatsService,
    HealthMonitor,
    AdminTokenGuard,
  ],
  exports: [HealthMonitor],
})
export class MoviesModule {}
