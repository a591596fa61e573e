import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { CacheAsideInterceptor } from '../cache/cache-aside.interceptor';
import { CacheStatsService } from '../cache/cache-stats.service';
import { MovieCache } from '../cache/movie-cache.service';
import { WriteThroughHandler } from '../cache/write-through.handler';
import { HealthMonitor } from '../health/health.monitor';
import { MovieEntity, MovieSchema } from './movie.schema';
import { MoviesController } from './movies.controller';
import { MoviesRepository } from './movies.repository';
import { MoviesService } from './movies.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: MovieEntity.name, schema: MovieSchema }])],
  controllers: [MoviesController],
  providers: [
    MoviesRepository,
    MoviesService,
    MovieCache,
    CacheAsideInterceptor,
    WriteThroughHandler,
    CacheStatsService,
    HealthMonitor,
    AdminTokenGuard,
  ],
  exports: [MoviesRepository, MovieCache, HealthMonitor],
})
export class MoviesModule {}
