import { createHash } from 'node:crypto';

/** Every Redis key the service uses is built here. */

export const movieKey = (id: string): string => `movie:${id}`;

/**
 * Title lookups map to a movie id. The title is hashed so any user input yields a
 * bounded key made of hex digits only (no key injection, no separators from input).
 */
export const titleKey = (title: string, year?: number): string =>
  `movie:title:${createHash('sha256').update(title, 'utf8').digest('hex')}:${year ?? 0}`;

/** Marks a lookup (a movie or title key) as known absent, for NEGATIVE_TTL_SECONDS. */
export const absentKey = (lookupKey: string): string => `absent:${lookupKey}`;

/** Held by the one instance filling a cold lookup key; others wait for its fill. */
export const leaseKey = (lookupKey: string): string => `lease:${lookupKey}`;

export const STATS_HITS_KEY = 'stats:hits';
export const STATS_MISSES_KEY = 'stats:misses';
export const STATS_BYPASSES_KEY = 'stats:bypasses';
export const TTL_SETTING_KEY = 'settings:ttl_seconds';
export const SYSTEM_STATUS_KEY = 'system:status';

/** All-time views per movie id (sorted set). */
export const TRENDING_ALL_KEY = 'trending:all';
/** Views per movie id in the bucket starting at this Unix second (sorted set, expires after the longest window). */
export const trendingBucketKey = (bucketStartSeconds: number): string =>
  `trending:bucket:${bucketStartSeconds}`;
/** Scratch key for one windowed ranking; created and deleted inside one script. */
export const trendingWindowKey = (windowSeconds: number): string =>
  `trending:window:${windowSeconds}`;
/** Movie id -> title, for display in rankings without reading MongoDB. */
export const TRENDING_TITLES_KEY = 'trending:titles';
