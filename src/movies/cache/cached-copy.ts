import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { decodeCopy, peekCopy, type MovieRef } from './movie-copy.codec';

/**
 * A copy as read from Redis: its header (includes/copy.lua) and the movie's encoding, decoded only
 * if someone needs the whole movie (a near-cache keeping it, a graced answer); a hit sends the
 * encoding on and is counted by `ref`.
 */
export class CachedCopy {
  private decoded?: Movie;

  private constructor(
    /** The movie's protobuf encoding. */
    readonly bytes: Buffer,
    readonly ref: MovieRef,
    /** Fresh until then (Redis time, ms); kept for grace after. */
    readonly expiresAt: number,
    /** Unsettled until then (Redis time, ms; 0: settled). */
    readonly settlesAt: number,
  ) {}

  /** Null for a value that is not a copy of this format (then it is treated as a miss). */
  static of(value: Buffer): CachedCopy | null {
    const end = value.indexOf(10);
    if (end < 0) return null;
    const header = headerNumbers(value, end) ?? parsedHeader(value.toString('latin1', 0, end));
    if (!header) return null;
    const bytes = value.subarray(end + 1);
    const ref = peekCopy(bytes, header[0]);
    return ref ? new CachedCopy(bytes, ref, header[1], header[2]) : null;
  }

  movie(): Movie {
    this.decoded ??= decodeCopy(this.bytes) ?? undefined;
    if (!this.decoded) throw new Error(`the cached copy of ${this.ref.id} is not a movie`);
    return this.decoded;
  }
}

/** Revision, expiry and settling time of a header. */
type HeaderNumbers = [revision: number, expiresAt: number, settlesAt: number];

/**
 * The header "v2 <revision> <expiresAt> <settlesAt>" read from its bytes, as every copy writes it
 * (digits only): no string is made on a hit. Null for anything else.
 */
function headerNumbers(value: Buffer, end: number): HeaderNumbers | null {
  if (value[0] !== 0x76 || value[1] !== 0x32 || value[2] !== 0x20) return null;
  const numbers: HeaderNumbers = [0, 0, 0];
  let field = 0;
  let digits = 0;
  for (let at = 3; at < end; at += 1) {
    const byte = value[at];
    if (byte === 0x20 && digits > 0 && field < 2) {
      field += 1;
      digits = 0;
    } else if (byte >= 0x30 && byte <= 0x39) {
      numbers[field] = numbers[field] * 10 + (byte - 0x30);
      digits += 1;
    } else return null;
  }
  return field === 2 && digits > 0 ? numbers : null;
}

/** The header read as text (a number written otherwise than in digits); null if not "v2". */
function parsedHeader(header: string): HeaderNumbers | null {
  const [format, ...fields] = header.split(' ');
  if (format !== 'v2' || fields.length !== 3 || fields.includes('')) return null;
  const numbers = fields.map(Number) as HeaderNumbers;
  return numbers.every(Number.isFinite) ? numbers : null;
}
