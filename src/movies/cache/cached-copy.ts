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
    const [format, revision, expires, settles] = value.toString('latin1', 0, end).split(' ');
    if (format !== 'v2') return null;
    const bytes = value.subarray(end + 1);
    const ref = peekCopy(bytes, Number(revision));
    return ref ? new CachedCopy(bytes, ref, Number(expires), Number(settles)) : null;
  }

  movie(): Movie {
    this.decoded ??= decodeCopy(this.bytes) ?? undefined;
    if (!this.decoded) throw new Error(`the cached copy of ${this.ref.id} is not a movie`);
    return this.decoded;
  }
}
