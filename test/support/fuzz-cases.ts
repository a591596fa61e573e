import * as protoLoader from '@grpc/proto-loader';
import { protoPath as SERVED_HEALTH_PROTO_PATH } from 'grpc-health-check';
import { parseWorkload } from '../../src/benchmark/workload';
import { MOVIE_PROTO_PATH } from '../../src/common/paths';
import {
  BatchGetMoviesRequest,
  GetCacheStatsRequest,
  GetMovieRequest,
  RunBenchmarkRequest,
  StreamTrendingRequest,
  UpdateRatingRequest,
} from '../../src/generated/client/movies/v1/movie_service';
import {
  LOADER_OPTIONS,
  MAX_MESSAGE_BYTES,
  MOVIE_SERVICE_FULL_NAME,
} from '../../src/grpc/grpc-channel';
import type { FuzzMetadata } from './fuzz-client';
import { encodeWire, stringField, type WireMessage } from './fuzz-protobuf';
import {
  decodeReflectionRequest,
  encodeReflectionRequest,
  type ReflectionVersion,
} from './fuzz-streams';

export const RPCS = [
  'GetMovie',
  'BatchGetMovies',
  'UpdateRating',
  'StreamTrending',
  'RunBenchmark',
  'GetCacheStats',
  'HealthCheck',
  'HealthWatch',
  'HealthList',
  'ReflectionV1',
  'ReflectionV1Alpha',
] as const;
export type Rpc = (typeof RPCS)[number];

export const ADMIN_RPCS: ReadonlySet<Rpc> = new Set(['UpdateRating', 'RunBenchmark']);

export const RPC_PATHS: Record<Rpc, string> = {
  GetMovie: `/${MOVIE_SERVICE_FULL_NAME}/GetMovie`,
  BatchGetMovies: `/${MOVIE_SERVICE_FULL_NAME}/BatchGetMovies`,
  UpdateRating: `/${MOVIE_SERVICE_FULL_NAME}/UpdateRating`,
  StreamTrending: `/${MOVIE_SERVICE_FULL_NAME}/StreamTrending`,
  RunBenchmark: `/${MOVIE_SERVICE_FULL_NAME}/RunBenchmark`,
  GetCacheStats: `/${MOVIE_SERVICE_FULL_NAME}/GetCacheStats`,
  HealthCheck: '/grpc.health.v1.Health/Check',
  HealthWatch: '/grpc.health.v1.Health/Watch',
  HealthList: '/grpc.health.v1.Health/List',
  ReflectionV1: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  ReflectionV1Alpha: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
};

/** How a case is sent: one request and its answer, a server stream's first message, or one
 * request on a bidirectional stream. */
export const CALL_SHAPES: Record<Rpc, 'unary' | 'server-stream' | 'bidi'> = {
  GetMovie: 'unary',
  BatchGetMovies: 'unary',
  UpdateRating: 'unary',
  StreamTrending: 'server-stream',
  RunBenchmark: 'unary',
  GetCacheStats: 'unary',
  HealthCheck: 'unary',
  HealthWatch: 'server-stream',
  HealthList: 'unary',
  ReflectionV1: 'bidi',
  ReflectionV1Alpha: 'bidi',
};

export const REFLECTION_VERSIONS: Partial<Record<Rpc, ReflectionVersion>> = {
  ReflectionV1: 'v1',
  ReflectionV1Alpha: 'v1alpha',
};

const HEALTH_RPCS: Partial<Record<Rpc, string>> = {
  HealthCheck: 'Check',
  HealthWatch: 'Watch',
  HealthList: 'List',
};

/** A valid-and-authorised RunBenchmark runs: above this many requests it is sent unauthorised. */
export const BENCHMARK_REQUEST_BUDGET = 200;

export type FuzzBody =
  | { kind: 'typed'; request: Record<string, unknown> }
  | { kind: 'wire'; message: WireMessage }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A string field one byte over the message limit (built when sent: too big to print). */
  | { kind: 'oversized' };

export interface FuzzCase {
  rpc: Rpc;
  body: FuzzBody;
  metadata: FuzzMetadata;
  /** Every field was drawn from the valid values: with the rights it needs, the call succeeds. */
  valid: boolean;
}

interface Codec {
  encode(message: never): { finish(): Uint8Array };
  fromPartial(request: never): unknown;
}
const CODECS: Partial<Record<Rpc, Codec>> = {
  GetMovie: GetMovieRequest,
  BatchGetMovies: BatchGetMoviesRequest,
  UpdateRating: UpdateRatingRequest,
  StreamTrending: StreamTrendingRequest,
  RunBenchmark: RunBenchmarkRequest,
  GetCacheStats: GetCacheStatsRequest,
};

/** The request bytes: typed requests through the generated encoder the typed client uses. */
export function caseBytes({ rpc, body }: FuzzCase): Buffer {
  switch (body.kind) {
    case 'typed': {
      const version = REFLECTION_VERSIONS[rpc];
      if (version) return encodeReflectionRequest(version, body.request);
      const codec = CODECS[rpc];
      if (codec)
        return Buffer.from(
          codec.encode(codec.fromPartial(body.request as never) as never).finish(),
        );
      // Health: a HealthCheckRequest (its one field) or the empty HealthListRequest.
      const service = body.request.service as string | undefined;
      return encodeWire({
        fields: service ? [stringField(1, service)] : [],
        cut: 0,
        junk: new Uint8Array(),
      });
    }
    case 'wire':
      return encodeWire(body.message);
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'oversized':
      return encodeWire({
        fields: [stringField(1, 'x'.repeat(MAX_MESSAGE_BYTES + 1))],
        cut: 0,
        junk: new Uint8Array(),
      });
  }
}

// The server's decoders: MovieService as Nest loads it, health from the proto grpc-health-check
// serves (it has List; the project's copy, which reflection describes, does not).
const definition = protoLoader.loadSync(MOVIE_PROTO_PATH, LOADER_OPTIONS);
const health = protoLoader.loadSync(SERVED_HEALTH_PROTO_PATH, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
type Methods = Record<string, { requestDeserialize(bytes: Buffer): unknown }>;

/** A health response as grpc-health-check's clients read it (statuses by name). */
export function decodeHealthResponse(rpc: 'HealthWatch' | 'HealthList', bytes: Buffer) {
  const method = (health['grpc.health.v1.Health'] as Record<string, ResponseDecoder>)[
    HEALTH_RPCS[rpc]!
  ];
  return method.responseDeserialize(bytes) as {
    status?: string;
    statuses?: Record<string, { status: string }>;
  };
}
type ResponseDecoder = { responseDeserialize(bytes: Buffer): unknown };

/** What the server decodes the bytes to, or undefined when they are not a valid message. */
export function decodeRequest(rpc: Rpc, bytes: Buffer): Record<string, unknown> | undefined {
  const version = REFLECTION_VERSIONS[rpc];
  const healthMethod = HEALTH_RPCS[rpc];
  try {
    if (version) return decodeReflectionRequest(version, bytes) as Record<string, unknown>;
    const method = healthMethod
      ? (health['grpc.health.v1.Health'] as Methods)[healthMethod]
      : (definition[MOVIE_SERVICE_FULL_NAME] as Methods)[rpc];
    return method.requestDeserialize(bytes) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function authorised(metadata: FuzzMetadata, token: string): boolean {
  return metadata.authorization === `Bearer ${token}`;
}

/** The workload a RunBenchmark case would run (valid request, admin token), else undefined. */
export function benchmarkWorkload(c: FuzzCase, token: string) {
  if (c.rpc !== 'RunBenchmark' || c.body.kind === 'oversized' || !authorised(c.metadata, token))
    return undefined;
  const request = decodeRequest(c.rpc, caseBytes(c));
  try {
    return request && parseWorkload(request);
  } catch {
    return undefined;
  }
}

/** Keeps the run cheap: a benchmark that would run more than the budget goes without a token. */
export function withinBenchmarkBudget(token: string) {
  return (c: FuzzCase): FuzzCase => {
    const workload = benchmarkWorkload(c, token);
    if (!workload || workload.requests <= BENCHMARK_REQUEST_BUDGET) return c;
    return { ...c, metadata: { extra: c.metadata.extra } };
  };
}
