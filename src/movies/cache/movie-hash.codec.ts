import type { Movie } from '../../generated/nest/movies/v1/movie_service';

interface FieldCodec<T> {
  encode(value: T): string;
  /** null: not a value of this field (the hash is then not a movie). */
  decode(raw: string): T | null;
}

const text: FieldCodec<string> = { encode: (value) => value, decode: (raw) => raw };

const number: FieldCodec<number> = {
  encode: String,
  decode: (raw) => (raw === '' || Number.isNaN(Number(raw)) ? null : Number(raw)),
};

const list: FieldCodec<string[]> = {
  encode: (value) => JSON.stringify(value),
  decode: (raw) => {
    try {
      const value: unknown = JSON.parse(raw);
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
    } catch {
      return null;
    }
  },
};

/** Every Movie field as a hash field: a field added to the proto must be given one here. */
const FIELDS: { [K in keyof Movie]-?: FieldCodec<NonNullable<Movie[K]>> } = {
  id: text,
  title: text,
  year: number,
  plot: text,
  imdbVotes: number,
  genres: list,
  directors: list,
  cast: list,
  runtimeMinutes: number,
  revision: number,
  rating: number,
};

const NAMES = Object.keys(FIELDS) as Array<keyof Movie>;
/** Absent in a hash when the movie has none. */
const OPTIONAL = new Set<keyof Movie>(['rating']);

/** A cached movie is a Redis hash: field/value pairs, one per Movie field it has. */
export function encodeMovieHash(movie: Movie): string[] {
  const pairs: string[] = [];
  for (const name of NAMES) {
    const value = movie[name];
    if (value !== undefined)
      pairs.push(name, (FIELDS[name] as FieldCodec<typeof value>).encode(value));
  }
  return pairs;
}

/** Null when the hash is absent or not a complete movie (then it is treated as a miss). */
export function decodeMovieHash(hash: Record<string, string>): Movie | null {
  const movie: Partial<Record<keyof Movie, unknown>> = {};
  for (const name of NAMES) {
    const raw = hash[name];
    if (raw === undefined) {
      if (OPTIONAL.has(name)) continue;
      return null;
    }
    const value = FIELDS[name].decode(raw);
    if (value === null) return null;
    movie[name] = value;
  }
  return movie as Movie;
}
