import type { Attributes } from '@opentelemetry/api';
import { CacheStatus, CacheTier } from '../generated/nest/movies/v1/movie_service';

export const CACHE_LABEL: Partial<Record<number, string>> = {
  [CacheStatus.CACHE_STATUS_HIT]: 'hit',
  [CacheStatus.CACHE_STATUS_MISS]: 'miss',
  [CacheStatus.CACHE_STATUS_BYPASS]: 'bypass',
  [CacheStatus.CACHE_STATUS_STALE]: 'stale',
};

export const TIER_LABEL: Partial<Record<number, string>> = {
  [CacheTier.CACHE_TIER_LOCAL]: 'local',
  [CacheTier.CACHE_TIER_REDIS]: 'redis',
};

/** What a GetMovie answer says of the cache. */
export type Answer = { cacheStatus?: number; cacheTier?: number };

/** `cache.outcome` (hit, miss, stale, bypass) and `cache.tier` (local, redis) of an answer. */
export function cacheAttributes(answer: Answer): Attributes {
  const attributes: Attributes = {};
  const outcome = answer.cacheStatus === undefined ? undefined : CACHE_LABEL[answer.cacheStatus];
  if (outcome) attributes['cache.outcome'] = outcome;
  const tier = answer.cacheTier && TIER_LABEL[answer.cacheTier];
  if (tier) attributes['cache.tier'] = tier;
  return attributes;
}
