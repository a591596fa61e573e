import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  SamplingBreaker,
  circuitBreaker,
  handleAll,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { Cluster } from 'ioredis';
import { DependencyUnavailableError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS_CLIENT, type RedisClient } from './redis-connection';

/**
 * The one way to Redis: failures become DependencyUnavailableError('Redis'), and one breaker per
 * process fails calls at once while Redis is away (on a cluster, only when most calls fail, so a
 * failover does not send every read to MongoDB). docs/operations.md has the settings.
 */
@Injectable()
export class RedisCircuit {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly deadlineMs?: number;
  /** One server: a breaker of consecutive failures. A cluster's samples every call. */
  private readonly consecutive: boolean;
  private failedSinceSuccess = false;

  constructor(
    @Inject(REDIS_CLIENT) readonly client: RedisClient,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    const cluster = client instanceof Cluster;
    if (cluster) this.deadlineMs = config.redisTimeoutMs;
    this.consecutive = !cluster;
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: config.redisBreakerCooldownMs,
      breaker: cluster
        ? new SamplingBreaker({ threshold: 0.9, duration: 1_000, minimumRps: 5 })
        : new ConsecutiveBreaker(config.redisBreakerThreshold),
    });
    metrics.redisBreakerState = () => this.state;
  }

  get state(): 'closed' | 'half-open' | 'open' {
    const state = this.breaker.state;
    return state === CircuitState.Closed
      ? 'closed'
      : state === CircuitState.HalfOpen
        ? 'half-open'
        : 'open';
  }

  /** Runs one command (or pipeline); `operation` labels the error metric. */
  run<T>(operation: string, command: (redis: RedisClient) => Promise<T>): Promise<T> {
    // Closed, no failure since the last success: a success teaches a consecutive breaker nothing,
    // so the command skips cockatiel's promises (a Redis hit's); a failure is still told to it.
    if (this.consecutive && !this.failedSinceSuccess && this.breaker.state === CircuitState.Closed)
      return this.bounded(command(this.client)).then(
        (value) => {
          if (this.failedSinceSuccess) this.tell(() => Promise.resolve());
          return value;
        },
        (error: unknown) => {
          this.failed(operation);
          this.tell(() => Promise.reject(error as Error));
          throw new DependencyUnavailableError('Redis', error);
        },
      );
    return this.breaker
      .execute(() => this.bounded(command(this.client)))
      .then(
        (value) => {
          this.failedSinceSuccess = false;
          return value;
        },
        (error: unknown) => {
          if (!(error instanceof BrokenCircuitError)) this.failed(operation);
          throw new DependencyUnavailableError('Redis', error);
        },
      );
  }

  private failed(operation: string): void {
    this.failedSinceSuccess = true;
    this.metrics.redisErrors.inc({ operation });
  }

  /** Counts an outcome already known in the breaker (which may open, or close after a trial). */
  private tell(outcome: () => Promise<void>): void {
    // A thunk: an open breaker does not call it, and a rejection nobody awaits is never made.
    this.breaker.execute(outcome).then(
      () => (this.failedSinceSuccess = false),
      () => undefined,
    );
  }

  /**
   * The health probe: straight to Redis, so an open breaker does not hide a recovery; when Redis
   * answers, the breaker closes at once instead of waiting for its cooldown.
   */
  async ping(): Promise<boolean> {
    try {
      const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
      if (nodes.length === 0) return false;
      const pongs = await Promise.all(nodes.map((node) => this.bounded(node.ping())));
      const ok = pongs.every((pong) => pong === 'PONG');
      if (ok && this.breaker.state !== CircuitState.Closed) this.breaker.isolate().dispose();
      return ok;
    } catch {
      return false;
    }
  }

  private bounded<T>(reply: Promise<T>): Promise<T> {
    const ms = this.deadlineMs;
    if (ms === undefined) return reply;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
    });
    return Promise.race([reply, late]).finally(() => clearTimeout(timer));
  }
}
