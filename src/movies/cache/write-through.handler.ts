import { Injectable, Logger } from '@nestjs/common';
import { MovieNotFoundError } from '../../common/errors';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { MoviesRepository } from '../movies.repository';
import { MovieCacheStore } from './movie-cache.store';
import { OutageLedger } from './outage-ledger';

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
    private readonly store: MovieCacheStore,
    private readonly ledger: OutageLedger,
  ) {}

  async updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    const movie = await this.repository.updateRating(id, rating);
    if (!movie) throw new MovieNotFoundError(`id ${id}`);
    try {
      await this.store.install(movie);
      this.ledger.clear(movie.id);
      return { movie, cacheRefreshed: true };
    } catch {
      // Redis unreachable: the cached copy may be stale until it is evicted after the outage.
      this.ledger.markDirty(movie.id);
      this.logger.warn(
        `movie ${id} revision ${movie.revision} saved, cache not refreshed: Redis unavailable`,
      );
      return { movie, cacheRefreshed: false };
    }
  }
}
