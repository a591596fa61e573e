import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type Redis from 'ioredis';
import { DependencyUnavailableError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS_CLIENT } from './redis-connection';

/**
 * The one way to Redis for every feature: failures surface as DependencyUnavailableError('Redis'),
 * and after REDIS_BREAKER_THRESHOLD failures in a row one breaker opens for the whole process:
 * calls fail at once for REDIS_BREAKER_COOLDOWN_MS instead of each paying a timeout, then one
 * call probes again.
 */
@Injectable()
export class RedisCircuit {
  private readonly breaker: CircuitBreakerPolicy;

  constructor(
    @Inject(REDIS_CLIENT) readonly client: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: config.redisBreakerCooldownMs,
      breaker: new ConsecutiveBreaker(config.redisBreakerThreshold),
    });
  }

  get isOpen(): boolean {
    return this.breaker.state === CircuitState.Open;
  }

  /** Runs one command (or pipeline); `operation` labels the error metric. */
  async run<T>(operation: string, command: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(() => command(this.client));
    } catch (error) {
      if (!(error instanceof BrokenCircuitError)) this.metrics.redisErrors.inc({ operation });
      throw new DependencyUnavailableError('Redis', error);
    }
  }

  /**
   * The health probe: straight to Redis, so an open breaker does not hide a recovery; when Redis
   * answers, the breaker closes at once instead of waiting for its cooldown.
   */
  async ping(): Promise<boolean> {
    try {
      const ok = (await this.client.ping()) === 'PONG';
      if (ok && this.breaker.state !== CircuitState.Closed) this.breaker.isolate().dispose();
      return ok;
    } catch {
      return false;
    }
  }
}
