import {
  CacheStatus,
  CacheTier,
  GetMovieResponse,
} from '../generated/client/movies/v1/movie_service';
import { apiMovieFactory } from '../../test/factories/api-movie.factory';
import { readAnswer } from './probe-client';

describe('ProbeClient readAnswer', () => {
  it('reads the status, the tier and the movie’s id and title of an encoded GetMovieResponse', () => {
    const movie = apiMovieFactory({ title: 'Metropolis', plot: 'a city', genres: ['Drama'] });
    const bytes = Buffer.from(
      GetMovieResponse.encode({
        movie,
        cacheStatus: CacheStatus.CACHE_STATUS_HIT,
        cacheTier: CacheTier.CACHE_TIER_REDIS,
      }).finish(),
    );

    const sut = readAnswer(bytes);

    expect(sut).toEqual({
      movie: expect.objectContaining({ id: movie.id, title: 'Metropolis' }),
      cacheStatus: CacheStatus.CACHE_STATUS_HIT,
      cacheTier: CacheTier.CACHE_TIER_REDIS,
    });
  });

  it('reads an answer without a movie as one (the runner counts it as an error)', () => {
    const bytes = Buffer.from(
      GetMovieResponse.encode({
        movie: undefined,
        cacheStatus: CacheStatus.CACHE_STATUS_MISS,
        cacheTier: CacheTier.CACHE_TIER_UNSPECIFIED,
      }).finish(),
    );

    expect(readAnswer(bytes).movie).toBeNull();
  });
});
