import * as protoLoader from '@grpc/proto-loader';
import { parseWorkload } from '../../src/benchmark/workload';
import { HEALTH_PROTO_PATH, MOVIE_PROTO_PATH } from '../../src/common/paths';
import {
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

export const RPCS = [
  'GetMovie',
  'UpdateRating',
  'StreamTrending',
  'RunBenchmark',
  'GetCacheStats',
  'HealthCheck',
] as const;
export type Rpc = (typeof RPCS)[number];

export const ADMIN_RPCS: ReadonlySet<Rpc> = new Set(['UpdateRating', 'RunBenchmark']);

export const RPC_PATHS: Record<Rpc, string> = {
  GetMovie: `/${MOVIE_SERVICE_FULL_NAME}/GetMovie`,
  UpdateRating: `/${MOVIE_SERVICE_FULL_NAME}/UpdateRating`,
  StreamTrending: `/${MOVIE_SERVICE_FULL_NAME}/StreamTrending`,
  RunBenchmark: `/${MOVIE_SERVICE_FULL_NAME}/RunBenchmark`,
  GetCacheStats: `/${MOVIE_SERVICE_FULL_NAME}/GetCacheStats`,
  HealthCheck: '/grpc.health.v1.Health/Check',
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
const CODECS: Record<Exclude<Rpc, 'HealthCheck'>, Codec> = {
  GetMovie: GetMovieRequest,
  UpdateRating: UpdateRatingRequest,
  StreamTrending: StreamTrendingRequest,
  RunBenchmark: RunBenchmarkRequest,
  GetCacheStats: GetCacheStatsRequest,
};

/** The request bytes: typed requests through the generated encoder the typed client uses. */
export function caseBytes({ rpc, body }: FuzzCase): Buffer {
  switch (body.kind) {
    case 'typed': {
      if (rpc === 'HealthCheck') {
        const service = body.request.service as string | undefined;
        return encodeWire({
          fields: service ? [stringField(1, service)] : [],
          cut: 0,
          junk: new Uint8Array(),
        });
      }
      const codec = CODECS[rpc];
      return Buffer.from(codec.encode(codec.fromPartial(body.request as never) as never).finish());
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

// The server's decoders: MovieService as Nest loads it, health from the same health.proto.
const definition = protoLoader.loadSync(MOVIE_PROTO_PATH, LOADER_OPTIONS);
const health = protoLoader.loadSync(HEALTH_PROTO_PATH, { ...LOADER_OPTIONS, keepCase: true });
type Methods = Record<string, { requestDeserialize(bytes: Buffer): unknown }>;

/** What the server decodes the bytes to, or undefined when they are not a valid message. */
export function decodeRequest(rpc: Rpc, bytes: Buffer): Record<string, unknown> | undefined {
  const method =
    rpc === 'HealthCheck'
      ? (health['grpc.health.v1.Health'] as Methods).Check
      : (definition[MOVIE_SERVICE_FULL_NAME] as Methods)[rpc];
  try {
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
