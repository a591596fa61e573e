import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { DependencyUnavailableError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  CacheStatus,
  type GetMovieRequest,
  type GetMovieResponse,
  type Movie,
} from '../generated/nest/movies/v1/movie_service';
import { parseMovieLookup, type MovieLookup } from '../movies/movie-lookup';
import { MovieCache } from './movie-cache.service';

const isRedisDown = (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === 'Redis';

/**
 * Cache-aside for GetMovie: Redis first; on a miss the handler (MongoDB) runs and its
 * result is stored with the TTL. With Redis away the handler's result is served as BYPASS.
 */
@Injectable()
export class CacheAsideInterceptor implements NestInterceptor<GetMovieResponse, GetMovieResponse> {
  private readonly logger = new Logger(CacheAsideInterceptor.name);

  constructor(
    private readonly cache: MovieCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(
    context: ExecutionContext,
    next: CallHandler<GetMovieResponse>,
  ): Observable<GetMovieResponse> {
    const lookup = parseMovieLookup(context.switchToRpc().getData<GetMovieRequest>());
    const load = () => lastValueFrom(next.handle());
    // CACHE_ENABLED=false: the uncached baseline, every read from MongoDB.
    if (!this.config.cacheEnabled) return defer(() => this.bypass(load));
    return defer(() => this.read(lookup, load));
  }

  private async read(
    lookup: MovieLookup,
    load: () => Promise<GetMovieResponse>,
  ): Promise<GetMovieResponse> {
    try {
      const cached = await this.readCached(lookup);
      if (cached) return { movie: cached, cacheStatus: CacheStatus.CACHE_STATUS_HIT };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }

    const { movie } = await load();
    if (!movie) return { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS };
    try {
      await this.fill(lookup, movie);
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      this.cache.recordBypass();
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
    }
  }

  private async readCached(lookup: MovieLookup): Promise<Movie | null> {
    const id =
      lookup.kind === 'id' ? lookup.id : await this.cache.resolveTitle(lookup.title, lookup.year);
    return id ? this.cache.readMovie(id) : null;
  }

  private async fill(lookup: MovieLookup, movie: Movie): Promise<void> {
    await this.cache.fillMovie(movie);
    if (lookup.kind === 'title')
      await this.cache.rememberTitle(lookup.title, lookup.year, movie.id);
  }

  private async bypass(load: () => Promise<GetMovieResponse>): Promise<GetMovieResponse> {
    this.logger.debug('Redis unavailable: reading from MongoDB only');
    const { movie } = await load();
    this.cache.recordBypass();
    return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
  }
}
