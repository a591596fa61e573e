import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** Weight of the newest sample in the moving average of a miss's cost. */
const EWMA_WEIGHT = 0.1;

/**
 * When a hit on a copy close to its expiry should refresh it in the background
 * (REFRESH_AHEAD): `fraction`, once less than REFRESH_AHEAD_FRACTION of the TTL is left; or
 * `xfetch` (Vattani, Chierichetti and Lowenstein, VLDB 2015), with probability rising as expiry
 * nears, scaled by what a miss costs here (its MongoDB read and fill, a moving average) times
 * REFRESH_AHEAD_BETA.
 */
@Injectable()
export class RefreshAhead {
  private missMs = 5;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** A miss took this long, MongoDB read and fill. */
  observeMiss(ms: number): void {
    this.missMs += EWMA_WEIGHT * (ms - this.missMs);
  }

  due(remainingMs: number): boolean {
    const { mode, beta, fraction } = this.config.refreshAhead;
    if (mode === 'fraction') return remainingMs <= fraction * this.config.cacheTtlSeconds * 1000;
    if (mode === 'xfetch') return remainingMs <= this.missMs * beta * -Math.log(Math.random());
    return false;
  }
}
