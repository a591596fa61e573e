import { InvalidArgumentError } from '../common/errors';

export const MAX_TITLE_LENGTH = 256;
export const MIN_YEAR = 1850;
export const MAX_YEAR = 2200;
export const MIN_RATING = 0;
export const MAX_RATING = 10;

export type MovieLookup =
  { kind: 'id'; id: string } | { kind: 'title'; title: string; year?: number };

interface LookupFields {
  id?: unknown;
  title?: unknown;
  year?: unknown;
}

const OBJECT_ID = /^[0-9a-f]{24}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function optionalString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidArgumentError(field, 'must be a string');
  return value;
}

/** Validates "exactly one of id and title" (plus year) and returns the lookup to run. */
export function parseMovieLookup(request: LookupFields): MovieLookup {
  const id = optionalString(request.id, 'id');
  const title = optionalString(request.title, 'title');
  const year = request.year ?? 0;
  if (typeof year !== 'number' || !Number.isInteger(year)) {
    throw new InvalidArgumentError('year', 'must be an integer');
  }
  if (id && title) throw new InvalidArgumentError('id', 'and title are exclusive: set only one');
  if (!id && !title) throw new InvalidArgumentError('id', 'or title is required');

  if (id) {
    const lower = id.toLowerCase();
    if (!OBJECT_ID.test(lower)) {
      throw new InvalidArgumentError('id', 'must be a 24-character hexadecimal ObjectId');
    }
    if (year !== 0) throw new InvalidArgumentError('year', 'only narrows a title lookup');
    return { kind: 'id', id: lower };
  }

  if (title.length > MAX_TITLE_LENGTH) {
    throw new InvalidArgumentError('title', `must be at most ${MAX_TITLE_LENGTH} characters`);
  }
  if (CONTROL_CHARACTERS.test(title)) {
    throw new InvalidArgumentError('title', 'must not contain control characters');
  }
  if (year !== 0 && (year < MIN_YEAR || year > MAX_YEAR)) {
    throw new InvalidArgumentError(
      'year',
      `must be 0 (any) or between ${MIN_YEAR} and ${MAX_YEAR}`,
    );
  }
  return year === 0 ? { kind: 'title', title } : { kind: 'title', title, year };
}

export function parseRating(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError('rating', 'must be a finite number');
  }
  if (value < MIN_RATING || value > MAX_RATING) {
    throw new InvalidArgumentError('rating', `must be between ${MIN_RATING} and ${MAX_RATING}`);
  }
  return value;
}

export function describeLookup(lookup: MovieLookup): string {
  return lookup.kind === 'id'
    ? `id ${lookup.id}`
    : `title ${JSON.stringify(lookup.title)}${lookup.year ? ` (${lookup.year})` : ''}`;
}
