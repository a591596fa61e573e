import type { ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  GetMovieRequest,
  MovieServiceService,
  type CacheStatus,
  type CacheTier,
  type MovieServiceClient,
} from '../generated/client/movies/v1/movie_service';
import { peekCopy, type MovieRef } from '../movies/cache/movie-copy.codec';

/** What the benchmark reads of a GetMovie answer: its status, tier and the movie's id and title. */
export interface ProbedAnswer {
  movie: MovieRef | null;
  cacheStatus: CacheStatus;
  cacheTier: CacheTier;
}

/** GetMovieResponse's statuses and the movie's leading fields, the rest of the movie skipped. */
export function readAnswer(bytes: Buffer): ProbedAnswer {
  const answer: ProbedAnswer = { movie: null, cacheStatus: 0, cacheTier: 0 };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited)
      answer.movie = peekCopy(reader.bytes());
    else if (field === 2 && wireType === WireType.Varint) answer.cacheStatus = reader.int32();
    else if (field === 3 && wireType === WireType.Varint) answer.cacheTier = reader.int32();
    else reader.skip(wireType);
  }
  return answer;
}

/**
 * GetMovie by id for the benchmark's many calls, on the generated client's channel: each request
 * encoded once per id, an answer read without decoding the movie, and one abort listener for
 * all calls in flight. What the client spends per call is not the service's latency.
 */
export class ProbeClient {
  private readonly requests = new Map<string, Buffer>();
  private readonly inFlight = new Set<ClientUnaryCall>();
  private readonly path = MovieServiceService.getMovie.path;

  constructor(
    private readonly client: MovieServiceClient,
    private readonly metadata: Metadata,
    signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.inFlight.forEach((call) => call.cancel()), {
      once: true,
    });
  }

  getMovie(id: string): Promise<ProbedAnswer> {
    let request = this.requests.get(id);
    if (!request) this.requests.set(id, (request = encodeRequest(id)));
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        this.path,
        (bytes: Buffer) => bytes,
        readAnswer,
        request,
        this.metadata,
        {},
        (error: ServiceError | null, answer?: ProbedAnswer) => {
          this.inFlight.delete(call);
          if (error) reject(error);
          else resolve(answer!);
        },
      );
      this.inFlight.add(call);
    });
  }
}

const encodeRequest = (id: string) =>
  Buffer.from(GetMovieRequest.encode(GetMovieRequest.fromPartial({ id })).finish());
