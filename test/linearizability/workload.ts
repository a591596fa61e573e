import { status, type ServiceError } from '@grpc/grpc-js';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../src/generated/client/movies/v1/movie_service';
import { authMetadata } from '../../src/grpc/grpc-client';
import { MovieApi } from '../../src/grpc/movie-api';
import type { MovieState, Op, Register } from './history';

export interface Workload {
  clients: number;
  /** Share of calls that are UpdateRating; the rest are GetMovie. */
  writeShare: number;
  /** Share of GetMovie calls made by title. */
  titleShare: number;
  deadlineMs: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  clients: 18,
  writeShare: 0.15,
  titleShare: 0.25,
  deadlineMs: 2_000,
};

const stateOf = (movie: Movie | undefined): MovieState => ({
  revision: movie?.revision ?? -1,
  rating: movie?.rating ?? null,
});

const servedBy = ({ cacheStatus, cacheTier }: GetMovieResponse) =>
  cacheTier === CacheTier.CACHE_TIER_UNSPECIFIED
    ? CacheStatus[cacheStatus]
    : `${CacheStatus[cacheStatus]} ${CacheTier[cacheTier]}`;

/**
 * The clients, in this process so that one monotonic clock times every call: client i calls
 * instance i mod n, one call at a time, each with a deadline, and every call is recorded.
 */
export class Clients {
  readonly ops: Op[] = [];
  private readonly apis: MovieApi[];
  private writes = 0;

  constructor(
    private readonly addresses: string[],
    private readonly movies: Register[],
    private readonly clock: () => number,
    private readonly adminToken: string,
    private readonly workload: Workload = DEFAULT_WORKLOAD,
  ) {
    this.apis = Array.from({ length: workload.clients }, (_, i) =>
      MovieApi.connect(addresses[i % addresses.length]),
    );
  }

  /** Runs every client until `stop` aborts; resolves once their last calls returned. */
  async run(stop: AbortSignal): Promise<void> {
    await Promise.all(this.apis.map((api, client) => this.client(client, api, stop)));
  }

  close(): void {
    this.apis.forEach((api) => api.close());
  }

  private async client(client: number, api: MovieApi, stop: AbortSignal): Promise<void> {
    const instance = client % this.addresses.length;
    while (!stop.aborted) {
      const movie = this.movies[Math.floor(Math.random() * this.movies.length)];
      const write = Math.random() < this.workload.writeShare;
      const byTitle = !write && Math.random() < this.workload.titleShare;
      const op: Op = {
        client,
        instance,
        movie: movie.id,
        f: write ? 'write' : 'read',
        by: byTitle ? 'title' : 'id',
        invoke: 0,
        complete: 0,
        ok: false,
      };
      // Each write its own rating (the nth writes n / 10,000), so a read names the write it sees,
      // and lincheck can tell that a failed write nobody saw never took effect.
      if (write) op.written = ((this.writes++ % 100_000) + 1) / 10_000;
      const deadline = Date.now() + this.workload.deadlineMs;
      op.invoke = this.clock();
      try {
        if (write) {
          const response = await this.updateRating(api, movie.id, op.written!, deadline);
          op.complete = this.clock();
          op.out = stateOf(response);
        } else {
          const request = byTitle ? { title: movie.title } : { id: movie.id };
          const response = await api.getMovie(request, undefined, { deadline });
          op.complete = this.clock();
          op.out = stateOf(response.movie);
          op.served = servedBy(response);
          if (response.movie?.id !== movie.id)
            op.served += ` (answered movie ${response.movie?.id})`;
        }
        op.ok = true;
      } catch (error) {
        op.complete = this.clock();
        const code = (error as ServiceError).code;
        op.error = code === undefined ? (error as Error).message : status[code];
      }
      this.ops.push(op);
    }
  }

  /** MovieApi.updateRating without a deadline: called on the generated stub with one. */
  private updateRating(
    api: MovieApi,
    id: string,
    rating: number,
    deadline: number,
  ): Promise<Movie | undefined> {
    return new Promise((resolve, reject) =>
      api.client.updateRating(
        { id, title: '', year: 0, rating },
        authMetadata(this.adminToken),
        { deadline },
        (error, response) => (error ? reject(error) : resolve(response.movie)),
      ),
    );
  }
}
