import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MovieCache } from '../cache/movie-cache.service';
import { MoviesRepository } from '../movies/movies.repository';
import { MOVIE_SERVICE_FULL_NAME } from '../grpc/grpc.options';

export const HEALTH = Symbol('HEALTH');

export interface DependencyStatus {
  redisOk: boolean;
  mongoOk: boolean;
}

/** Pings Redis and MongoDB on an interval and drives the grpc.health.v1 statuses. */
@Injectable()
export class HealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthMonitor.name);
  private timer?: NodeJS.Timeout;
  private last: DependencyStatus = { redisOk: false, mongoOk: false };

  constructor(
    @Inject(HEALTH) private readonly health: HealthImplementation,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: MovieCache,
    private readonly repository: MoviesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.config.healthIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.setStatus('NOT_SERVING');
  }

  get status(): DependencyStatus {
    return this.last;
  }

  async check(): Promise<DependencyStatus> {
    const [redisOk, mongoOk] = await Promise.all([this.cache.ping(), this.repository.ping()]);
    const changed = redisOk !== this.last.redisOk || mongoOk !== this.last.mongoOk;
    this.last = { redisOk, mongoOk };
    this.setStatus(redisOk && mongoOk ? 'SERVING' : 'NOT_SERVING');
    if (changed)
      this.logger.log(`redis ${redisOk ? 'up' : 'DOWN'}, mongodb ${mongoOk ? 'up' : 'DOWN'}`);
    if (redisOk) {
      await this.cache.publishState(mongoOk ? 'ok' : 'degraded').catch(() => undefined);
      const evicted = await this.cache.evictDirty().catch(() => 0);
      if (evicted > 0) this.logger.log(`evicted ${evicted} movies written while Redis was away`);
    }
    return this.last;
  }

  private setStatus(status: ServingStatus): void {
    this.health.setStatus('', status);
    this.health.setStatus(MOVIE_SERVICE_FULL_NAME, status);
  }
}
