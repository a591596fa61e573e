import { leaseKey, titleTag } from '../../redis/cache-keys';
import type { MovieLookup } from '../movie-lookup';

/** Where a lookup's cache entries live: its hash tag, and the year that narrows a title. */
export interface LookupKeys {
  tag: string;
  year?: number;
  /** Its fill lease; also names its in-process single flight. */
  lease: string;
}

export function lookupKeys(lookup: MovieLookup): LookupKeys {
  const tag = lookup.kind === 'id' ? lookup.id : titleTag(lookup.title);
  const year = lookup.kind === 'title' ? lookup.year : undefined;
  return { tag, year, lease: leaseKey(tag, year) };
}
