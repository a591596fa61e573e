import { Injectable, Logger } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { MovieNotFoundError } from '../../common/errors';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { fenceKey } from '../../redis/cache-keys';
import { inSpan } from '../../telemetry/tracer';
import { ReplicaAck } from '../../redis/replica-ack';
import { MoviesRepository } from '../movies.repository';
import { CachePolicy } from './cache-policy';
import { DirtyIds } from './dirty-ids';
import { InvalidationBus } from './near/invalidation-bus';
import { MovieCacheStore } from './movie-cache.store';
import { WriteFence } from './write-fence';

export interface WriteThroughResult {
  movie: Movie;
  cacheRefreshed: boolean;
}

/**
 * Write-through: MongoDB first; only once it succeeded, the cached copy gets the new state, the
 * fences of the id and the title are raised, and every instance's near-cache drops the movie,
 * all before the call is acknowledged.
 */
@Injectable()
export class WriteThroughHandler {
  private readonly logger = new Logger(WriteThroughHandler.name);

  constructor(
    private readonly repository: MoviesRepository,
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly dirty: DirtyIds,
    private readonly replicas: ReplicaAck,
    private readonly policy: CachePolicy,
    private readonly bus: InvalidationBus,
  ) {}

  updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    return inSpan('cache.write_through', (span) => this.writeThrough(id, rating, span));
  }

  private async writeThrough(id: string, rating: number, span?: Span): Promise<WriteThroughResult> {
    // The fence before MongoDB: the install is refused if it was lost or regenerated meanwhile.
    const seen = await this.fence.current(id).catch(() => undefined);
    const movie = await this.repository.updateRating(id, rating);
    if (!movie) throw new MovieNotFoundError(`id ${id}`);
    const cacheRefreshed = await this.refreshCache(movie, seen);
    await this.bus.invalidate(movie.id);
    span?.setAttributes({ 'cache.refreshed': cacheRefreshed, 'movie.revision': movie.revision });
    if (!cacheRefreshed) {
      this.logger.warn(
        `movie ${id} revision ${movie.revision} saved, cache not refreshed: Redis unavailable`,
      );
    }
    return { movie, cacheRefreshed };
  }

  /** Installs the copy and raises the fences; an id whose copy may not last is marked dirty. */
  private async refreshCache(movie: Movie, seen: string | undefined): Promise<boolean> {
    try {
      // Both before the acknowledgement: the fences refuse any fill or absence read before now.
      await Promise.all([
        this.store.install(movie, seen),
        this.fence.raiseTitle(movie.title, movie.year),
      ]);
    } catch {
      // Redis unreachable: the id reads MongoDB until its copy is repaired.
      this.dirty.mark(movie.id);
      return false;
    }
    this.dirty.repairSoon(movie.id);
    // A successful install does not clear an earlier mark: that write may be the newer one.
    if (this.dirty.has(movie.id)) return true;
    const replicated = await this.replicas.confirm(fenceKey(movie.id), this.policy.fenceSeconds);
    if (!replicated) this.dirty.mark(movie.id);
    return true;
  }
}
