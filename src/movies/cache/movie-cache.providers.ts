import { CacheCounters } from './cache-counters';
import { CacheMisses } from './cache-misses';
import { CachePolicy } from './cache-policy';
import { InvalidationBus } from './invalidation-bus';
import { MovieCacheStore } from './movie-cache.store';
import { NearCache } from './near-cache';
import { NegativeCache } from './negative-cache';
import { OutageLedger } from './outage-ledger';
import { LogicalClock } from './read-outcome';
import { TitleMap } from './title-map';
import { WriteFence } from './write-fence';

/** The movie cache on Redis and in process: what needs Redis, not MongoDB. */
export const MOVIE_CACHE_PROVIDERS = [
  CachePolicy,
  MovieCacheStore,
  NegativeCache,
  TitleMap,
  WriteFence,
  OutageLedger,
  CacheCounters,
  LogicalClock,
  NearCache,
  InvalidationBus,
  CacheMisses,
];
