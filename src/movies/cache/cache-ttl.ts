import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** How long a cached copy lives: CACHE_TTL_SECONDS, jittered per fill so keys filled together expire apart. */
@Injectable()
export class CacheTtl {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get baseSeconds(): number {
    return this.config.cacheTtlSeconds;
  }

  /** CACHE_TTL_SECONDS, varied by up to ±CACHE_TTL_JITTER, never below one second. */
  jitteredSeconds(): number {
    const jitter = this.config.cacheTtlJitter * (2 * Math.random() - 1);
    return Math.max(1, Math.round(this.baseSeconds * (1 + jitter)));
  }
}
