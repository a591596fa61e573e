import { Injectable, Logger } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import {
  DependencyUnavailableError,
  MovieNotFoundError,
  WriteNotSavedError,
} from '../../common/errors';
import { sleep } from '../../common/sleep';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { fenceKey } from '../../redis/cache-keys';
import { ReplicaAck } from '../../redis/replica-ack';
import { inSpan } from '../../telemetry/tracer';
import { MoviesRepository } from '../movies.repository';
import { CachePolicy } from './cache-policy';
import { MovieCacheStore } from './movie-cache.store';
import { InvalidationBus } from './near/invalidation-bus';
import { WriteFence } from './write-fence';

export interface WriteThroughResult {
  movie: Movie;
  cacheRefreshed: boolean;
}

/** A write that began: the fence it left pending, and its name there. */
interface BegunWrite {
  fence: string;
  nonce: string;
  /** performance.now() when it began: its window counts from here. */
  at: number;
}

const RETRY_BEGIN_MS = 50;

/**
 * Write-through, invalidate before reveal: the movie's fence is made pending (no instance caches
 * it from then on) and its copies dropped, in Redis and in every near-cache, before MongoDB is
 * written; then the new copy is installed and the fence raised. No read can see the new rating
 * while any cache still serves the old one.
 */
@Injectable()
export class WriteThroughHandler {
  private readonly logger = new Logger(WriteThroughHandler.name);

  constructor(
    private readonly repository: MoviesRepository,
    private readonly store: MovieCacheStore,
    private readonly fence: WriteFence,
    private readonly replicas: ReplicaAck,
    private readonly policy: CachePolicy,
    private readonly bus: InvalidationBus,
  ) {}

  updateRating(id: string, rating: number): Promise<WriteThroughResult> {
    return inSpan('cache.write_through', (span) => this.writeThrough(id, rating, span));
  }

  private async writeThrough(id: string, rating: number, span?: Span): Promise<WriteThroughResult> {
    // MongoDB known away: refused before the cache drops anything it could still serve.
    if (this.repository.unavailable && !(await this.repository.ping()))
      throw new DependencyUnavailableError('MongoDB');
    const write = await this.begin(id);
    // Every near-cache has dropped the movie (or stopped serving) before MongoDB has the write.
    await this.bus.invalidate(id);
    // A failure here may still have reached MongoDB: the fence stays pending for its window.
    const movie = await this.repository.updateRating(
      id,
      rating,
      this.policy.writeDeadline(write.at),
    );
    if (!movie) {
      await this.store.endWrite(id, write.fence, write.nonce).catch(() => false);
      throw new MovieNotFoundError(`id ${id}`);
    }
    const [cacheRefreshed] = await Promise.all([
      this.store.endWrite(id, write.fence, write.nonce, movie).catch(() => false),
      this.fence.raiseTitle(movie.title, movie.year).catch(() => undefined),
    ]);
    span?.setAttributes({ 'cache.refreshed': cacheRefreshed, 'movie.revision': movie.revision });
    return { movie, cacheRefreshed };
  }

  /**
   * Makes the fence pending (durably: a replica of the master has it too, if it has one), retried
   * through a failover or a pause for writeBeginBudgetMs. Without it nothing is written.
   */
  private async begin(id: string): Promise<BegunWrite> {
    const nonce = WriteFence.generation();
    const giveUpAt = performance.now() + this.policy.writeBeginBudgetMs;
    for (;;) {
      const at = performance.now();
      try {
        const fence = await this.fence.beginWrite(id, nonce);
        if (await this.replicas.confirm(fenceKey(id), this.policy.fenceSeconds))
          return { fence, nonce, at };
      } catch {
        // Redis away: tried again until the budget is spent.
      }
      if (performance.now() + RETRY_BEGIN_MS >= giveUpAt) {
        this.logger.warn(`movie ${id}: rating not saved, Redis could not fence the write`);
        throw new WriteNotSavedError('Redis could not fence the write');
      }
      await sleep(RETRY_BEGIN_MS);
    }
  }
}
