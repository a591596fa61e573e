import { createHash } from 'node:crypto';

/**
 * Every Redis key the service uses is built here (the table: docs/architecture.md#redis-keys).
 * Keys one script touches share a hash tag, so on a cluster they live in one slot; a title's tag
 * is its SHA-256, so no input shapes a key.
 */

/** keyv's namespace for CACHE_MANAGER entries: every key it writes starts with "cm:". */
export const CACHE_MANAGER_NAMESPACE = 'cm';

export const titleTag = (title: string): string =>
  `t:${createHash('sha256').update(title, 'utf8').digest('hex')}`;

/** A movie's copy: its header and protobuf encoding (src/redis/commands/includes/copy.lua). */
export const movieKey = (id: string): string => `movie:v2:{${id}}`;
/** Where versions before copies were encoded kept them (a hash): dropped with every copy. */
export const legacyMovieKey = (id: string): string => `movie:{${id}}`;

/** Newest revision written for an id (or a write count for a title), with the generation that set it. */
export const fenceKey = (tag: string): string => `fence:{${tag}}`;

/** Every fence, for a flush; and the tag a fence key belongs to. */
export const FENCE_KEY_PATTERN = 'fence:*';
export const tagOfFenceKey = (key: string): string => key.slice('fence:{'.length, -1);

const withYear = (key: string, year?: number) => (year ? `${key}:${year}` : key);

/** Held by the one instance filling a cold lookup; others wait for its fill. */
export const leaseKey = (tag: string, year?: number): string => withYear(`lease:{${tag}}`, year);

/** Marks a lookup as known absent, for NEGATIVE_TTL_SECONDS. */
export const absentKey = (tag: string, year?: number): string => withYear(`absent:{${tag}}`, year);

/** A title's tag (titleTag) and year -> movie id, as passed to CACHE_MANAGER (stored under "cm:" + this). */
export const titleKey = (tag: string, year?: number): string => `title:{${tag}}:${year ?? 0}`;

/** Copies, absences and title map entries: what a flush drops once the fences moved on. */
export const CACHED_ENTRY_PATTERNS = ['movie:*', 'absent:*', `${CACHE_MANAGER_NAMESPACE}:title:*`];

/** A title map entry as Redis stores it: keyv prefixes the namespace. */
export const storedTitleKey = (tag: string, year?: number): string =>
  `${CACHE_MANAGER_NAMESPACE}:${titleKey(tag, year)}`;

/**
 * Near-cache coherence: invalidations and pings, acks to one writer (sharded pub/sub channels),
 * and the live instances, all in one slot: the script that reads the registry publishes there.
 */
export const NEAR_CACHE_CHANNEL = 'near:{n}:invalidations';
export const nearCacheAckChannel = (instanceId: string): string => `near:{n}:acks:${instanceId}`;
export const NEAR_CACHE_INSTANCES_KEY = 'near:{n}:instances';
/** Movies being written, each until its write window ends: for instances that register later. */
export const NEAR_CACHE_WRITES_KEY = 'near:{n}:writes';

/** The change feed's leader lease (holder: an instance id) and where the feed resumes. */
export const FEED_LEADER_KEY = 'feed:{f}:leader';
export const FEED_TOKEN_KEY = 'feed:{f}:token';

export const STATS_HITS_KEY = 'stats:hits';
export const STATS_MISSES_KEY = 'stats:misses';
export const STATS_BYPASSES_KEY = 'stats:bypasses';
export const STATS_STALE_KEY = 'stats:stale';
export const TTL_SETTING_KEY = 'settings:ttl_seconds';
export const SYSTEM_STATUS_KEY = 'system:status';

/** All-time views per movie id (sorted set). */
export const TRENDING_ALL_KEY = 'trending:all';
/**
 * Views per movie id in the bucket starting at this Unix second (sorted set, expires after the
 * longest window). Every bucket shares the tag {w}: one script sums a window's buckets.
 */
export const trendingBucketKey = (bucketStartSeconds: number): string =>
  `trending:bucket:{w}:${bucketStartSeconds}`;
/** Scratch key for one windowed ranking, beside its buckets; created and deleted inside one script. */
export const trendingWindowKey = (windowSeconds: number): string =>
  `trending:window:{w}:${windowSeconds}`;
/** Movie id -> title, for display in rankings without reading MongoDB. */
export const TRENDING_TITLES_KEY = 'trending:titles';
