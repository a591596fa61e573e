import { Injectable } from '@nestjs/common';
import { MovieNotFoundError } from '../common/errors';
import { WriteThroughHandler } from '../cache/write-through.handler';
import type {
  GetMovieRequest,
  Movie,
  UpdateRatingRequest,
  UpdateRatingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { describeLookup, parseMovieLookup, parseRating, type MovieLookup } from './movie-lookup';
import { MoviesRepository } from './movies.repository';

@Injectable()
export class MoviesService {
  constructor(
    private readonly repository: MoviesRepository,
    private readonly writeThrough: WriteThroughHandler,
  ) {}

  /** The stored movie, straight from MongoDB (the cache-aside interceptor sits in front). */
  async getMovie(request: GetMovieRequest): Promise<Movie> {
    return this.find(parseMovieLookup(request));
  }

  async updateRating(request: UpdateRatingRequest): Promise<UpdateRatingResponse> {
    const lookup = parseMovieLookup(request);
    const rating = parseRating(request.rating);
    const id = lookup.kind === 'id' ? lookup.id : (await this.find(lookup)).id;
    return this.writeThrough.updateRating(id, rating);
  }

  private async find(lookup: MovieLookup): Promise<Movie> {
    const movie =
      lookup.kind === 'id'
        ? await this.repository.findById(lookup.id)
        : await this.repository.findByTitle(lookup.title, lookup.year);
    if (!movie) throw new MovieNotFoundError(describeLookup(lookup));
    return movie;
  }
}
