import { Injectable, Logger } from '@nestjs/common';
import { MovieNotFoundError } from '../../common/errors';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { MoviesRepository } from '../movies.repository';
import { InvalidationBus } from './invalidation-bus';
import { MovieCacheStore } from './movie-cache.store';
import { WriteFence } from './write-fence';
import { OutageLedger } from './outage-ledger';

export interface WriteThroughResult {
  movie: Movie;
  cacheRefreshed: boolean;
}

/**
 * Write-through: MongoDB first; only once it succeeded, the cached copy gets the new state and the
 * write fences of the id and of the title are raised, and every instance's near-cache drops the
 * movie, all before the call is acknowledged.
 */
@Injectable()
export class WriteThroughHandler {
  private readonly logger = new Logger(WriteThroughHandler.name);

  constructor(
    private readonly repository: MoviesRepository,
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly ledger: OutageLedger,
    private readonly bus: InvalidationBus,
  ) {}

  async updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    const movie = await this.repository.updateRating(id, rating);
    if (!movie) throw new MovieNotFoundError(`id ${id}`);
    try {
      // Both before the acknowledgement: the fences refuse any fill or absence read before now.
      await Promise.all([
        this.store.install(movie),
        this.fence.raiseTitle(movie.title, movie.year),
      ]);
      this.ledger.clear(movie.id);
      await this.bus.invalidate(movie.id);
      return { movie, cacheRefreshed: true };
    } catch {
      // Redis unreachable: the cached copy may be stale until it is evicted after the outage.
      this.ledger.markDirty(movie.id);
      await this.bus.invalidate(movie.id);
      this.logger.warn(
        `movie ${id} revision ${movie.revision} saved, cache not refreshed: Redis unavailable`,
      );
      return { movie, cacheRefreshed: false };
    }
  }
}
