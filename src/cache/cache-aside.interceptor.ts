import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Observable, defer, lastValueFrom } from 'rxjs';
import { DependencyUnavailableError, MovieNotFoundError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  CacheStatus,
  type GetMovieRequest,
  type GetMovieResponse,
  type Movie,
} from '../generated/nest/movies/v1/movie_service';
import { describeLookup, parseMovieLookup, type MovieLookup } from '../movies/movie-lookup';
import { movieKey, titleKey } from './cache-keys';
import { FILL_HOOK, type FillHook } from './fill-hook';
import { MovieCache } from './movie-cache.service';

const isRedisDown = (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === 'Redis';

const LEASE_POLL_MS = 10;

/** The key a lookup is cached, leased and negatively cached under. */
const lookupKey = (lookup: MovieLookup) =>
  lookup.kind === 'id' ? movieKey(lookup.id) : titleKey(lookup.title, lookup.year);

type Load = () => Promise<GetMovieResponse>;

/**
 * Cache-aside for GetMovie: Redis first; on a miss the handler (MongoDB) runs and its result is
 * stored with a jittered TTL. Concurrent misses for one key make one MongoDB read: in this process
 * by single-flight, across instances by a short Redis lease. Unknown movies are remembered as
 * absent for a while. With Redis away the handler's result is served as BYPASS.
 */
@Injectable()
export class CacheAsideInterceptor implements NestInterceptor<GetMovieResponse, GetMovieResponse> {
  private readonly logger = new Logger(CacheAsideInterceptor.name);
  private readonly inflight = new Map<string, Promise<GetMovieResponse>>();

  constructor(
    private readonly cache: MovieCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILL_HOOK) private readonly fillHook: FillHook,
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

  private async read(lookup: MovieLookup, load: Load): Promise<GetMovieResponse> {
    try {
      const cached = await this.readCached(lookup);
      if (cached) return { movie: cached, cacheStatus: CacheStatus.CACHE_STATUS_HIT };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }
    const key = lookupKey(lookup);
    const running = this.inflight.get(key);
    if (running) return running;
    const miss = this.missOnce(lookup, key, load).finally(() => this.inflight.delete(key));
    this.inflight.set(key, miss);
    return miss;
  }

  /** Null on a miss; throws NOT_FOUND for a lookup remembered as absent. */
  private async readCached(lookup: MovieLookup): Promise<Movie | null> {
    let id = lookup.kind === 'id' ? lookup.id : undefined;
    if (lookup.kind === 'title') {
      id = await this.cache.resolveTitle(lookup.title, lookup.year);
      if (!id && (await this.cache.isAbsent(lookupKey(lookup)))) {
        throw new MovieNotFoundError(describeLookup(lookup));
      }
    }
    if (!id) return null;
    const cached = await this.cache.readMovie(id);
    if (cached.kind === 'absent') throw new MovieNotFoundError(describeLookup(lookup));
    return cached.kind === 'hit' ? cached.movie : null;
  }

  /** The one miss for this key in this process: lease, read MongoDB, fill, release. */
  private async missOnce(lookup: MovieLookup, key: string, load: Load): Promise<GetMovieResponse> {
    let lease: string | null | undefined;
    try {
      lease = await this.cache.acquireLease(key);
      if (lease === null) {
        const filled = await this.awaitOtherFill(lookup);
        if (filled) return { movie: filled, cacheStatus: CacheStatus.CACHE_STATUS_HIT };
      }
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      return this.bypass(load);
    }
    try {
      return await this.loadAndFill(lookup, key, load);
    } finally {
      if (lease) await this.cache.releaseLease(key, lease).catch(() => undefined);
    }
  }

  /** Another instance holds the lease: wait for its fill, up to the lease time. */
  private async awaitOtherFill(lookup: MovieLookup): Promise<Movie | null> {
    const deadline = Date.now() + this.config.fillLeaseMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
      const movie = await this.readCached(lookup);
      if (movie) return movie;
    }
    return null;
  }

  private async loadAndFill(
    lookup: MovieLookup,
    key: string,
    load: Load,
  ): Promise<GetMovieResponse> {
    let movie: Movie | undefined;
    try {
      movie = (await load()).movie;
    } catch (error) {
      if (error instanceof MovieNotFoundError)
        await this.cache.rememberAbsent(key).catch(() => undefined);
      throw error;
    }
    if (!movie) return { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS };
    try {
      await this.fillHook.beforeFill(movie);
      await this.cache.fillMovie(movie);
      if (lookup.kind === 'title')
        await this.cache.rememberTitle(lookup.title, lookup.year, movie.id);
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_MISS };
    } catch (error) {
      if (!isRedisDown(error)) throw error;
      this.cache.recordBypass();
      return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
    }
  }

  private async bypass(load: Load): Promise<GetMovieResponse> {
    this.logger.debug('Redis unavailable: reading from MongoDB only');
    const { movie } = await load();
    this.cache.recordBypass();
    return { movie, cacheStatus: CacheStatus.CACHE_STATUS_BYPASS };
  }
}
