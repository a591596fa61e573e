import { leaseKey, titleKey, titleTag } from '../../redis/cache-keys';
import type { MovieLookup } from '../movie-lookup';

/** Where a lookup's cache entries live, resolved once per read. */
export interface LookupKeys {
  /** The movie id, or for a title "t:" and the title's SHA-256. */
  tag: string;
  /** The year that narrows a title. */
  year?: number;
  /** Its fill lease; also names its in-process single flight. */
  lease: string;
  /** A title's entry in the title map and the near-cache ('' for an id). */
  title: string;
}

export function lookupKeys(lookup: MovieLookup): LookupKeys {
  if (lookup.kind === 'id') return { tag: lookup.id, lease: leaseKey(lookup.id), title: '' };
  const tag = titleTag(lookup.title);
  const { year } = lookup;
  return { tag, year, lease: leaseKey(tag, year), title: titleKey(tag, year) };
}
