import type {
  CallOptions,
  ClientReadableStream,
  ClientUnaryCall,
  Metadata,
  ServiceError,
} from '@grpc/grpc-js';
import {
  BatchGetMoviesRequest,
  GetMovieRequest,
  RunBenchmarkRequest,
  StreamTrendingRequest,
  UpdateRatingRequest,
  type BatchGetMoviesResponse,
  type DeepPartial,
  type StreamTrendingResponse,
  type GetCacheStatsResponse,
  type GetMovieResponse,
  type MovieServiceClient,
  type RunBenchmarkResponse,
  type UpdateRatingResponse,
} from '../generated/client/movies/v1/movie_service';
import { authMetadata, createMovieClient, type ClientTls } from './grpc-client';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions> = {},
  signal?: AbortSignal,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const call = method(request, metadata, options, (error, response) => {
      signal?.removeEventListener('abort', cancel);
      if (error) reject(error);
      else resolve(response);
    });
    const cancel = () => call.cancel();
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
  });
}

/** Promise-returning calls over the generated MovieService stubs; admin calls carry the token. */
export class MovieApi {
  constructor(
    readonly client: MovieServiceClient,
    private readonly adminToken?: string,
  ) {}

  static connect(address: string, adminToken?: string, tls?: ClientTls): MovieApi {
    return new MovieApi(createMovieClient(address, tls), adminToken);
  }

  /** `signal` cancels the call (CANCELLED) when it aborts. */
  getMovie(
    request: Partial<GetMovieRequest>,
    metadata: Metadata = authMetadata(),
    options?: Partial<CallOptions>,
    signal?: AbortSignal,
  ): Promise<GetMovieResponse> {
    return unary(
      this.client.getMovie.bind(this.client),
      GetMovieRequest.fromPartial(request),
      metadata,
      options,
      signal,
    );
  }

  batchGetMovies(
    request: DeepPartial<BatchGetMoviesRequest>,
    metadata: Metadata = authMetadata(),
    options?: Partial<CallOptions>,
  ): Promise<BatchGetMoviesResponse> {
    return unary(
      this.client.batchGetMovies.bind(this.client),
      BatchGetMoviesRequest.fromPartial(request),
      metadata,
      options,
    );
  }

  updateRating(
    request: Partial<UpdateRatingRequest>,
    metadata: Metadata = authMetadata(this.adminToken),
  ): Promise<UpdateRatingResponse> {
    return unary(
      this.client.updateRating.bind(this.client),
      UpdateRatingRequest.fromPartial(request),
      metadata,
    );
  }

  runBenchmark(
    request: Partial<RunBenchmarkRequest>,
    metadata: Metadata = authMetadata(this.adminToken),
    options?: Partial<CallOptions>,
  ): Promise<RunBenchmarkResponse> {
    return unary(
      this.client.runBenchmark.bind(this.client),
      RunBenchmarkRequest.fromPartial(request),
      metadata,
      options,
    );
  }

  streamTrending(
    request: Partial<StreamTrendingRequest>,
  ): ClientReadableStream<StreamTrendingResponse> {
    return this.client.streamTrending(StreamTrendingRequest.fromPartial(request), authMetadata());
  }

  getCacheStats(): Promise<GetCacheStatsResponse> {
    return unary(this.client.getCacheStats.bind(this.client), {}, authMetadata());
  }

  close(): void {
    this.client.close();
  }
}
