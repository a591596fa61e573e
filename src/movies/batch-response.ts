import { status } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { DomainError } from '../common/errors';
import {
  GetMovieResponse as GetMovieResponseMessage,
  LookupError as LookupErrorMessage,
} from '../generated/client/movies/v1/movie_service';
import type { BatchGetMoviesResponse } from '../generated/nest/movies/v1/movie_service';
import { ENCODED_RESPONSE } from '../grpc/frozen-responses';
import type { CacheAsideResult } from './cache/read-outcome';

/** A lookup's outcome: its answer, or the error GetMovie would have answered with. */
export type LookupOutcome = CacheAsideResult | Error;

/** Answers served to many batches (near-cache copies, frozen): each encoded once. */
const encoded = new WeakMap<object, Uint8Array>();

/** A GetMovie answer's encoding: a Redis hit carries it, a frozen one is encoded once. */
function answerBytes(result: CacheAsideResult): Uint8Array {
  const own = result[ENCODED_RESPONSE];
  if (own) return own;
  let bytes = encoded.get(result);
  if (!bytes) {
    bytes = GetMovieResponseMessage.encode(result).finish();
    if (Object.isFrozen(result)) encoded.set(result, bytes);
  }
  return bytes;
}

/** What a lookup that failed alone answers: its own status; an unexpected failure says no more. */
export function lookupError(error: Error): { code: number; message: string } {
  return error instanceof DomainError
    ? { code: error.code, message: error.message }
    : { code: status.INTERNAL, message: 'internal error' };
}

/**
 * The BatchGetMoviesResponse of these outcomes, in order, as bytes: every answer's encoding is
 * copied in as it is (MovieResult: found = 1, error = 2), so a batch of cached movies is not
 * encoded again. The object carries them for the gRPC layer (ENCODED_RESPONSE).
 */
export function batchResponse(outcomes: LookupOutcome[]): BatchGetMoviesResponse {
  const writer = new BinaryWriter();
  for (const outcome of outcomes) {
    writer.uint32(10).fork();
    if (outcome instanceof Error)
      LookupErrorMessage.encode(lookupError(outcome), writer.uint32(18).fork()).join();
    else writer.uint32(10).bytes(answerBytes(outcome));
    writer.join();
  }
  return Object.defineProperty({ results: [] }, ENCODED_RESPONSE, {
    value: Buffer.from(writer.finish()),
  });
}
