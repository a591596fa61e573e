import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Connection } from 'mongoose';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MOVIE_SERVICE_FULL_NAME } from '../grpc/grpc-channel';
import { MovieCache } from '../movies/cache/movie-cache';
import { ChangeFeed } from '../movies/change-feed/change-feed.service';
import { MoviesRepository } from '../movies/movies.repository';
import { RedisCircuit } from '../redis/redis-circuit';

export const HEALTH = Symbol('HEALTH');

/** grpc.health.v1 name of the change feed: NOT_SERVING while it fails (caches then rely on TTLs). */
export const CHANGE_FEED_HEALTH = 'movies.v1.MovieService/ChangeFeed';

export interface DependencyStatus {
  redisOk: boolean;
  mongoOk: boolean;
}

/**
 * Drives the grpc.health.v1 statuses from Redis and MongoDB: pinged on an interval, and at once
 * when either connects, so a fresh instance reports SERVING as soon as both are up. While Redis
 * answers it publishes the cache status and evicts copies written during a Redis outage.
 */
@Injectable()
export class HealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthMonitor.name);
  private timer?: NodeJS.Timeout;
  private last: DependencyStatus = { redisOk: false, mongoOk: false };
  private readonly onRedisReady = () => this.connected({ redisOk: true });
  private readonly onMongoConnected = () => this.connected({ mongoOk: true });

  constructor(
    @Inject(HEALTH) private readonly health: HealthImplementation,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectConnection() private readonly connection: Connection,
    private readonly redis: RedisCircuit,
    private readonly repository: MoviesRepository,
    private readonly cache: MovieCache,
    private readonly feed: ChangeFeed,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.redis.client.on('ready', this.onRedisReady);
    this.connection.on('connected', this.onMongoConnected);
    this.connection.on('reconnected', this.onMongoConnected);
    await this.check();
    this.timer = setInterval(() => void this.check(), this.config.healthIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.redis.client.off('ready', this.onRedisReady);
    this.connection.off('connected', this.onMongoConnected);
    this.connection.off('reconnected', this.onMongoConnected);
    this.setStatus('NOT_SERVING');
    this.health.setStatus(CHANGE_FEED_HEALTH, 'NOT_SERVING');
  }

  async check(): Promise<DependencyStatus> {
    const [redisOk, mongoOk] = await Promise.all([this.redis.ping(), this.repository.ping()]);
    this.update({ redisOk, mongoOk });
    const { state } = this.feed.stats();
    this.health.setStatus(
      CHANGE_FEED_HEALTH,
      state === 'recovering' || state === 'starting' ? 'NOT_SERVING' : 'SERVING',
    );
    if (redisOk) {
      await this.cache.publishState(mongoOk ? 'ok' : 'degraded').catch(() => undefined);
    }
    return this.last;
  }

  /** A connection event is proof enough to serve; a full check follows. */
  private connected(up: Partial<DependencyStatus>): void {
    this.update({ ...this.last, ...up });
    void this.check();
  }

  private update(status: DependencyStatus): void {
    const changed = status.redisOk !== this.last.redisOk || status.mongoOk !== this.last.mongoOk;
    this.last = status;
    this.setStatus(status.redisOk && status.mongoOk ? 'SERVING' : 'NOT_SERVING');
    if (changed)
      this.logger.log(
        `redis ${status.redisOk ? 'up' : 'DOWN'}, mongodb ${status.mongoOk ? 'up' : 'DOWN'}`,
      );
  }

  private setStatus(status: ServingStatus): void {
    this.health.setStatus('', status);
    this.health.setStatus(MOVIE_SERVICE_FULL_NAME, status);
  }
}
