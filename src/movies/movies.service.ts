import { Injectable } from '@nestjs/common';
import { MovieNotFoundError } from '../common/errors';
import type {
  Movie,
  UpdateRatingRequest,
  UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { MovieCache } from './cache/movie-cache';
import { NO_DEADLINE, type ReadDeadline } from './cache/movie-source';
import { describeLookup, parseMovieLookup, parseRating, type MovieLookup } from './movie-lookup';
import { MoviesRepository } from './movies.repository';

@Injectable()
export class MoviesService {
  constructor(
    private readonly repository: MoviesRepository,
    private readonly cache: MovieCache,
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
}
