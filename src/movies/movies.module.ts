import { Module } from '@nestjs/common';
import { MovieCacheModule } from './cache/movie-cache.module';
import { MoviesRepositoryModule } from './movies-repository.module';
import { MoviesController } from './movies.controller';
import { MoviesService } from './movies.service';

/** GetMovie and UpdateRating: MongoDB through the repository, Redis through the movie cache. */
@Module({
  imports: [MoviesRepositoryModule, MovieCacheModule],
  controllers: [MoviesController],
  providers: [MoviesService],
  exports: [MoviesRepositoryModule, MovieCacheModule],
})
export class MoviesModule {}
