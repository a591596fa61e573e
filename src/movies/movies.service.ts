import type { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { CancelledError, InvalidArgumentError, MovieNotFoundError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  CacheStatus,
  type BatchGetMoviesRequest,
  type BatchGetMoviesResponse,
  type Movie,
  type UpdateRatingRequest,
  type UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { batchResponse, type LookupOutcome } from './batch-response';
import { MovieCache } from './cache/movie-cache';
import { NO_DEADLINE, type ReadDeadline } from './cache/movie-source';
import { answer, type CacheAsideResult } from './cache/read-outcome';
import { ConsistencySampler } from './consistency/consistency-sampler';
import { describeLookup, parseMovieLookup, parseRating, type MovieLookup } from './movie-lookup';
import { MovieReadEvents } from './movie-read-events';
import { MoviesRepository } from './movies.repository';

/** The most lookups one BatchGetMovies takes. */
export const MAX_BATCH = 500;

/** Lookups that read the same movie the same way are read once. */
const lookupKey = (lookup: MovieLookup) =>
  lookup.kind === 'id' ? lookup.id : `${lookup.year ?? 0} ${lookup.title}`;

@Injectable()
export class MoviesService {
  constructor(
    private readonly repository: MoviesRepository,
    private readonly cache: MovieCache,
    private readonly reads: MovieReadEvents,
    private readonly consistency: ConsistencySampler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The stored movie, straight from MongoDB (GetMovie reaches this only with CACHE_ENABLED=false). */
  async find(lookup: MovieLookup, deadline: ReadDeadline = NO_DEADLINE): Promise<Movie> {
    const movie =
      lookup.kind === 'id'
        ? await this.repository.findById(lookup.id, deadline)
        : await this.repository.findByTitle(lookup.title, lookup.year, deadline);
    if (!movie) throw new MovieNotFoundError(describeLookup(lookup));
    return movie;
  }

  async updateRating(request: UpdateRatingRequest): Promise<UpdateRatingResponse> {
    const lookup = parseMovieLookup(request);
    const rating = parseRating(request.rating);
    const id = lookup.kind === 'id' ? lookup.id : (await this.find(lookup)).id;
    return this.cache.updateRating(id, rating);
  }

  /**
   * Up to MAX_BATCH lookups, each read as GetMovie reads it, duplicates once. Each lookup's answer
   * is counted and offered to the consistency checker's sampler, and each movie served is
   * announced once per call (a view), as one GetMovie of it would be.
   */
  async batchGet(
    request: BatchGetMoviesRequest,
    metadata: Metadata | undefined,
    deadline: ReadDeadline = NO_DEADLINE,
  ): Promise<BatchGetMoviesResponse> {
    const count = request.lookups?.length ?? 0;
    if (count === 0 || count > MAX_BATCH)
      throw new InvalidArgumentError(
        'lookups',
        `must hold 1 to ${MAX_BATCH} lookups, not ${count}`,
      );
    const parsed = request.lookups.map((fields) => {
      try {
        return parseMovieLookup(fields);
      } catch (error) {
        if (error instanceof InvalidArgumentError) return error;
        throw error;
      }
    });
    const distinct = new Map<string, MovieLookup>();
    for (const lookup of parsed)
      if (!(lookup instanceof Error)) distinct.set(lookupKey(lookup), lookup);
    const lookups = [...distinct.values()];
    const arrivedAt = performance.now();
    const outcomes = this.config.cacheEnabled
      ? await this.cache.readMany(lookups, deadline)
      : await this.uncached(lookups, deadline);
    this.served(lookups, outcomes, metadata, arrivedAt);
    const byKey = new Map(lookups.map((lookup, i) => [lookupKey(lookup), outcomes[i]]));
    return batchResponse(
      parsed.map((lookup): LookupOutcome =>
        lookup instanceof Error ? lookup : byKey.get(lookupKey(lookup))!,
      ),
    );
  }

  /**
   * What the cache-aside interceptor does with each answer: sampled and counted per lookup; a
   * movie answered to several lookups (an id and its title) is one view.
   */
  private served(
    lookups: MovieLookup[],
    outcomes: LookupOutcome[],
    metadata: Metadata | undefined,
    arrivedAt: number,
  ): void {
    const announced = new Set<string>();
    outcomes.forEach((outcome, i) => {
      if (outcome instanceof Error) return;
      this.consistency.sample(lookups[i], outcome, arrivedAt);
      this.cache.count(outcome.cacheStatus);
      // A Redis hit is counted by its reference: its movie is decoded only if read.
      const movie = outcome.ref ?? outcome.movie;
      if (announced.has(movie.id)) return;
      announced.add(movie.id);
      this.reads.served(movie, metadata);
    });
  }

  /** CACHE_ENABLED=false: straight from MongoDB, the ids in one query. */
  private async uncached(lookups: MovieLookup[], deadline: ReadDeadline): Promise<LookupOutcome[]> {
    const ids = lookups.flatMap((lookup) => (lookup.kind === 'id' ? [lookup.id] : []));
    const byId =
      ids.length > 0 ? this.repository.findByIds(ids, deadline) : Promise.resolve(new Map());
    return Promise.all(
      lookups.map(async (lookup): Promise<CacheAsideResult | Error> => {
        try {
          const movie =
            lookup.kind === 'id' ? (await byId).get(lookup.id) : await this.find(lookup, deadline);
          if (!movie) throw new MovieNotFoundError(describeLookup(lookup));
          return answer(movie, CacheStatus.CACHE_STATUS_BYPASS);
        } catch (error) {
          // As the cached path: a lookup fails alone, unless the call itself ended.
          if (error instanceof CancelledError || !(error instanceof Error)) throw error;
          return error;
        }
      }),
    );
  }
}
