import { CacheCounters } from './cache-counters';
import { CacheMisses } from './cache-misses';
import { CacheTtl } from './cache-ttl';
import { FillLeases } from './fill-leases';
import { InvalidationBus } from './invalidation-bus';
import { MovieCacheStore } from './movie-cache.store';
import { NearCache } from './near-cache';
import { NegativeCache } from './negative-cache';
import { OutageLedger } from './outage-ledger';
import { LogicalClock } from './read-outcome';
import { RefreshAhead } from './refresh-ahead';
import { TitleMap } from './title-map';

/** The movie cache on Redis and in process: what needs Redis, not MongoDB. */
export const MOVIE_CACHE_PROVIDERS = [
  CacheTtl,
  MovieCacheStore,
  NegativeCache,
  TitleMap,
  FillLeases,
  OutageLedger,
  CacheCounters,
  LogicalClock,
  NearCache,
  InvalidationBus,
  RefreshAhead,
  CacheMisses,
];
