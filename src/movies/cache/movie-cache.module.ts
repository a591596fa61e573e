import { Module } from '@nestjs/common';
import { MovieReadEvents } from '../movie-read-events';
import { MoviesRepository } from '../movies.repository';
import { MoviesRepositoryModule } from '../movies-repository.module';
import { MovieCache } from './movie-cache';
import { MOVIE_CACHE_PROVIDERS } from './movie-cache.providers';
import { MOVIE_SOURCE } from './movie-source';
import { WriteThroughHandler } from './write-through.handler';

/**
 * The movie cache: exports its facade (and the read events trending counts), not its parts. The
 * GetMovie interceptor is built in the controller's module, from the facade.
 */
@Module({
  imports: [MoviesRepositoryModule],
  providers: [
    ...MOVIE_CACHE_PROVIDERS,
    { provide: MOVIE_SOURCE, useExisting: MoviesRepository },
    WriteThroughHandler,
    MovieCache,
    MovieReadEvents,
  ],
  exports: [MovieCache, MovieReadEvents],
})
export class MovieCacheModule {}
