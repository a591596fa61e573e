import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { Movie as MovieMessage } from '../../generated/client/movies/v1/movie_service';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/** What a served movie is counted and checked by, read without decoding the rest. */
export interface MovieRef {
  id: string;
  title: string;
  year: number;
  revision: number;
}

/**
 * A movie as Redis keeps it: its protobuf encoding, which a Redis hit sends on as it is (a hit
 * costs no decoding and no encoding), with its header (written by the Lua scripts, includes/copy.lua).
 */
export function encodeCopy(movie: Movie): Buffer {
  return Buffer.from(MovieMessage.encode(movie).finish());
}

/** The movie, or null when the bytes are not one (a copy that is then treated as a miss). */
export function decodeCopy(bytes: Uint8Array): Movie | null {
  try {
    const movie = MovieMessage.decode(bytes) as Movie;
    return movie.id ? movie : null;
  } catch {
    return null;
  }
}

/**
 * The id, title, year and revision of an encoded movie, skipping the other fields. `revision`,
 * when the caller knows it (a copy's header has it), spares reading past the leading fields:
 * encoders write fields in number order, so the rest of the movie is not walked.
 */
export function peekCopy(bytes: Uint8Array, revision?: number): MovieRef | null {
  const ref: MovieRef = { id: '', title: '', year: 0, revision: revision ?? 0 };
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) ref.id = reader.string();
      else if (field === 2 && wireType === WireType.LengthDelimited) ref.title = reader.string();
      else if (field === 3 && wireType === WireType.Varint) ref.year = reader.int32();
      else if (field > 3 && revision !== undefined) break;
      else if (field === 11 && wireType === WireType.Varint) ref.revision = Number(reader.int64());
      else reader.skip(wireType);
    }
  } catch {
    return null;
  }
  return ref.id ? ref : null;
}

/**
 * A GetMovieResponse around an encoded movie: movie (field 1, length-delimited), cache_status (2)
 * and cache_tier (3), both single-byte varints.
 */
export function frameResponse(movie: Buffer, cacheStatus: number, cacheTier: number): Buffer {
  let length = movie.length;
  let lengthBytes = 1;
  while (length >= 0x80) {
    length >>>= 7;
    lengthBytes += 1;
  }
  const framed = Buffer.allocUnsafe(1 + lengthBytes + movie.length + 4);
  let at = 0;
  framed[at++] = 0x0a;
  for (length = movie.length; length >= 0x80; length >>>= 7) framed[at++] = (length & 0x7f) | 0x80;
  framed[at++] = length;
  at += movie.copy(framed, at);
  framed[at++] = 0x10;
  framed[at++] = cacheStatus;
  framed[at++] = 0x18;
  framed[at] = cacheTier;
  return framed;
}
