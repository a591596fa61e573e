import { Injectable, Logger } from '@nestjs/common';
import { MovieNotFoundError } from '../common/errors';
import type { Movie } from '../generated/nest/movies/v1/movie_service';
import { MoviesRepository } from '../movies/movies.repository';
import { MovieCache } from './movie-cache.service';

export interface WriteThroughResult {
  movie: Movie;
  cacheRefreshed: boolean;
}

/** Write-through: MongoDB first; only once it succeeded, the cached copy gets the new state. */
@Injectable()
export class WriteThroughHandler {
  private readonly logger = new Logger(WriteThroughHandler.name);

  constructor(
    private readonly repository: MoviesRepository,
    private readonly cache: MovieCache,
  ) {}

  async updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    const movie = await this.repository.updateRating(id, rating);
    if (!movie) throw new MovieNotFoundError(`id ${id}`);
    try {
      return { movie, cacheRefreshed: await this.cache.writeThrough(movie) };
    } catch {
      this.logger.warn(
        `movie ${id} revision ${movie.revision} saved, cache not refreshed: Redis unavailable`,
      );
      return { movie, cacheRefreshed: false };
    }
  }
}
