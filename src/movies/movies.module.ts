import { Module } from '@nestjs/common';
import { MovieCacheModule } from './cache/movie-cache.module';
import { ChangeFeedModule } from './change-feed/change-feed.module';
import { MoviesRepositoryModule } from './movies-repository.module';
import { MoviesController } from './movies.controller';
import { MoviesService } from './movies.service';

/**
 * GetMovie and UpdateRating: MongoDB through the repository, Redis through the movie cache; the
 * change feed applies writes made elsewhere.
 */
@Module({
  imports: [MoviesRepositoryModule, MovieCacheModule, ChangeFeedModule],
  controllers: [MoviesController],
  providers: [MoviesService],
  exports: [MoviesRepositoryModule, MovieCacheModule, ChangeFeedModule],
})
export class MoviesModule {}
