import { DynamicModule, Module } from '@nestjs/common';
import type { HealthImplementation } from 'grpc-health-check';
import { MoviesModule } from '../movies/movies.module';
import { TrendingModule } from '../trending/trending.module';
import { CacheStatsController } from './cache-stats.controller';
import { CacheStatsService } from './cache-stats.service';
import { HEALTH, HealthMonitor } from './health.monitor';
import { MetricsServer } from './metrics.server';

/** Running the service: grpc.health.v1 statuses, GetCacheStats, the Prometheus endpoint. */
@Module({})
export class OpsModule {
  /** `health` is the server's grpc.health.v1 service, created with the gRPC server. */
  static register(health: HealthImplementation): DynamicModule {
    return {
      module: OpsModule,
      imports: [MoviesModule, TrendingModule],
      controllers: [CacheStatsController],
      providers: [
        { provide: HEALTH, useValue: health },
        HealthMonitor,
        CacheStatsService,
        MetricsServer,
      ],
    };
  }
}
