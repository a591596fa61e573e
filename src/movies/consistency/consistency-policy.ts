import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';

/** How often due checks are collected: a check runs at most this late after its horizon. */
const TICK_MS = 200;
/** The checker's MongoDB reads in flight at most (MONGO_MAX_READS bounds them with the misses). */
const READS_IN_FLIGHT = 2;
/** Versions of movies and titles remembered as first seen in MongoDB. */
const VERSIONS_REMEMBERED = 10_000;

/**
 * The consistency checker's settings (CONSISTENCY_*) and the arithmetic on them: the sampling gap,
 * how many samples live at once, and the nines of a horizon.
 */
@Injectable()
export class ConsistencyPolicy {
  readonly enabled: boolean;
  readonly sampleRate: number;
  readonly maxPerSecond: number;
  readonly horizonsSeconds: readonly number[];
  readonly heal: boolean;
  readonly tickMs = TICK_MS;
  readonly readsInFlight = READS_IN_FLIGHT;
  readonly versionsRemembered = VERSIONS_REMEMBERED;
  /**
   * Samples kept: each lives until its last horizon, and at most maxPerSecond arrive a second,
   * so a ring of this size loses one only when the checker is that far behind.
   */
  readonly capacity: number;
  /** ln(1 - rate), for the geometric gaps between samples. */
  private readonly logMiss: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { sampleRate, maxPerSecond, horizonsSeconds, heal } = config.consistency;
    this.enabled = sampleRate > 0 && config.cacheEnabled;
    this.sampleRate = sampleRate;
    this.maxPerSecond = maxPerSecond;
    this.horizonsSeconds = horizonsSeconds;
    this.heal = heal;
    this.capacity = maxPerSecond * (horizonsSeconds[horizonsSeconds.length - 1] + 2);
    this.logMiss = Math.log1p(-sampleRate);
  }

  /**
   * How many answers until the next sample: geometric with mean 1 / rate, so a hit costs a
   * decrement and a comparison, and a random number is drawn only per sample.
   */
  nextGap(): number {
    if (!this.enabled) return Infinity;
    if (this.sampleRate >= 1) return 1;
    return 1 + Math.floor(Math.log(1 - Math.random()) / this.logMiss);
  }

  /**
   * "Nines" of a horizon (Polaris): -log10 of the inconsistent fraction; 3 means 99.9% of the
   * checks found the copy consistent. With none inconsistent, log10(checks): what the checks
   * can show at most. 0 before any check.
   */
  static nines(checks: number, inconsistent: number): number {
    if (checks === 0) return 0;
    return inconsistent === 0 ? Math.log10(checks) : -Math.log10(inconsistent / checks);
  }
}
