import type { AppConfig } from '../../src/config/app-config';

/**
 * A TTL just set by a fill or write-through, as Redis reports it: CACHE_TTL_SECONDS within its
 * jitter (and a second of clock), plus the grace the copy is kept for past it.
 */
export function expectFreshTtl(ttl: number, config: AppConfig): void {
  const base = config.cacheTtlSeconds;
  const grace = config.cacheGraceSeconds;
  expect(ttl).toBeGreaterThanOrEqual(Math.floor(base * (1 - config.cacheTtlJitter)) + grace - 1);
  expect(ttl).toBeLessThanOrEqual(Math.ceil(base * (1 + config.cacheTtlJitter)) + grace);
}
