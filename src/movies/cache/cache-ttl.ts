import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** How long a cached copy lives: CACHE_TTL_SECONDS, jittered per fill so keys filled together expire apart. */
@Injectable()
export class CacheTtl {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get baseSeconds(): number {
    return this.config.cacheTtlSeconds;
  }

  /**
   * How long a write fence outlives its last use: ten times the longest miss (lease wait plus a
   * MongoDB read), so a fence is not lost under a running miss except by eviction.
   */
  get fenceSeconds(): number {
    return Math.max(
      10,
      Math.ceil((10 * (this.config.fillLeaseMs + this.config.mongoTimeoutMs)) / 1000),
    );
  }

  /** How long a copy is kept past its TTL, to be served when MongoDB fails. */
  get graceSeconds(): number {
    return this.config.cacheGraceSeconds;
  }

  /** CACHE_TTL_SECONDS, varied by up to ±CACHE_TTL_JITTER, never below one second. */
  jitteredSeconds(): number {
    const jitter = this.config.cacheTtlJitter * (2 * Math.random() - 1);
    return Math.max(1, Math.round(this.baseSeconds * (1 + jitter)));
  }
}
