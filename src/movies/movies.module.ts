import { Module } from '@nestjs/common';
import { MovieCacheModule } from './cache/movie-cache.module';
import { ChangeFeedModule } from './change-feed/change-feed.module';
import { ConsistencyModule } from './consistency/consistency.module';
import { MoviesRepositoryModule } from './movies-repository.module';
import { MoviesController } from './movies.controller';
import { MoviesService } from './movies.service';

/**
 * GetMovie and UpdateRating: MongoDB through the repository, Redis through the movie cache; the
 * change feed applies writes made elsewhere; the consistency checker samples what the cache serves.
 */
@Module({
  imports: [MoviesRepositoryModule, MovieCacheModule, ChangeFeedModule, ConsistencyModule],
  controllers: [MoviesController],
  providers: [MoviesService],
  exports: [MoviesRepositoryModule, MovieCacheModule, ChangeFeedModule, ConsistencyModule],
})
export class MoviesModule {}
