import type { AppConfig } from '../../src/config/app-config';

/** A TTL just set by a fill or write-through: CACHE_TTL_SECONDS within its jitter (and a second of clock). */
export function expectFreshTtl(ttl: number, config: AppConfig): void {
  const base = config.cacheTtlSeconds;
  expect(ttl).toBeGreaterThanOrEqual(Math.floor(base * (1 - config.cacheTtlJitter)) - 1);
  expect(ttl).toBeLessThanOrEqual(Math.ceil(base * (1 + config.cacheTtlJitter)));
}
