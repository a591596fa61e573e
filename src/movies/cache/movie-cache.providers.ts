import { CacheCounters } from './cache-counters';
import { CachePolicy } from './cache-policy';
import { CacheInstance } from './near/coherence-messages';
import { ExternalWrites } from './external-writes';
import { InvalidationBus } from './near/invalidation-bus';
import { MovieCacheStore } from './movie-cache.store';
import { NearCache } from './near/near-cache';
import { NearCacheLease } from './near/near-cache-lease';
import { NegativeCache } from './negative-cache';
import { ReadPipeline } from './read-pipeline';
import { LogicalClock } from './read-outcome';
import { RefreshAhead } from './refresh-ahead';
import { TitleMap } from './title-map';
import { TitleReads } from './title-reads';
import { WriteAcks } from './near/write-acks';
import { WriteFence } from './write-fence';

/** The movie cache's parts on Redis and in process; MongoDB comes in as MOVIE_SOURCE. */
export const MOVIE_CACHE_PROVIDERS = [
  CachePolicy,
  MovieCacheStore,
  NegativeCache,
  TitleMap,
  WriteFence,
  CacheCounters,
  LogicalClock,
  NearCache,
  CacheInstance,
  NearCacheLease,
  WriteAcks,
  InvalidationBus,
  ExternalWrites,
  RefreshAhead,
  ReadPipeline,
  TitleReads,
];
