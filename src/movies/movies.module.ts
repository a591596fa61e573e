import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CacheAsideInterceptor } from './cache/cache-aside.interceptor';
import { CacheAsideReader } from './cache/cache-aside.reader';
import { CachedCopies } from './cache/cached-copies';
import { MOVIE_CACHE_PROVIDERS } from './cache/movie-cache.providers';
import { WriteThroughHandler } from './cache/write-through.handler';
import { MovieReadEvents } from './movie-read-events';
import { MovieEntity, MovieSchema } from './movie.schema';
import { MoviesController } from './movies.controller';
import { MoviesRepository } from './movies.repository';
import { MoviesService } from './movies.service';

/** GetMovie and UpdateRating: MongoDB through the repository, Redis through the movie cache. */
@Module({
  imports: [MongooseModule.forFeature([{ name: MovieEntity.name, schema: MovieSchema }])],
  controllers: [MoviesController],
  providers: [
    MoviesRepository,
    MoviesService,
    MovieReadEvents,
    ...MOVIE_CACHE_PROVIDERS,
    CachedCopies,
    CacheAsideReader,
    CacheAsideInterceptor,
    WriteThroughHandler,
  ],
  exports: [MoviesRepository, MovieReadEvents, ...MOVIE_CACHE_PROVIDERS],
})
export class MoviesModule {}
