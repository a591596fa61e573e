import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { REDIS_CLIENT, type RedisClient } from './redis-connection';

/** How often the offset to Redis's clock is measured again. */
const MEASURE_EVERY_MS = 30_000;

/**
 * Redis's clock, read locally: its offset from this process's clock, measured with TIME (at the
 * middle of the round trip) at start and every 30 s. A copy's expiry is set on Redis's clock, so a
 * hit is one GET, judged here; the error is about half a round trip, plus drift since the last
 * measure. On a cluster it is the clock of the node measured (nodes are NTP-synchronized).
 */
@Injectable()
export class RedisClock implements OnModuleInit, OnApplicationShutdown {
  /** Redis's time at this process's `performance.now()` 0 (timeOrigin read once, not per hit). */
  private originMs = performance.timeOrigin;
  private timer?: NodeJS.Timeout;

  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  async onModuleInit(): Promise<void> {
    await this.measure();
    this.timer = setInterval(() => void this.measure(), MEASURE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Redis's time now, in ms. */
  now(): number {
    return this.originMs + performance.now();
  }

  /** Keeps the last offset when Redis does not answer. */
  async measure(): Promise<void> {
    try {
      const sent = performance.now();
      const [seconds, micros] = await this.client.time();
      const middle = (sent + performance.now()) / 2;
      this.originMs = Number(seconds) * 1000 + Number(micros) / 1000 - middle;
    } catch {
      // Measured again at the next interval.
    }
  }
}
