import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import type { HealthImplementation } from 'grpc-health-check';
import type { Connection } from 'mongoose';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { BenchmarkModule } from './benchmark/benchmark.module';
import { GrpcExceptionFilter } from './common/grpc-exception.filter';
import type { ResolvedAppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { MetricsModule } from './metrics/metrics.module';
import type { MetricsService } from './metrics/metrics.service';
import { CacheHooksModule, type CacheHooks } from './movies/cache/cache-hooks';
import { mongooseOptions, watchConnection } from './movies/mongo-connection';
import { MoviesModule } from './movies/movies.module';
import { OpsModule } from './ops/ops.module';
import { CacheManagerModule, RedisModule } from './redis/redis.module';
import { TrendingModule } from './trending/trending.module';

export interface AppOptions {
  /** Test seam between a miss's MongoDB read and its cache fill. */
  hooks?: CacheHooks;
}

/** What the app shares with the gRPC server it is created with. */
export interface AppShared {
  health: HealthImplementation;
  metrics: MetricsService;
  logger: Logger;
}

@Module({})
export class AppModule {
  static register(
    config: ResolvedAppConfig,
    shared: AppShared,
    options: AppOptions = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggerModule.forRoot({
          pinoHttp: { logger: shared.logger, autoLogging: false, quietReqLogger: true },
        }),
        MetricsModule.register(shared.metrics),
        MongooseModule.forRoot(config.mongoUri, {
          ...mongooseOptions(config),
          // Boot without waiting for MongoDB: health stays NOT_SERVING until it answers.
          lazyConnection: true,
          connectionFactory: (connection: Connection) => watchConnection(connection),
        }),
        RedisModule,
        CacheManagerModule,
        CacheHooksModule.register(options.hooks),
        MoviesModule,
        TrendingModule,
        BenchmarkModule,
        OpsModule.register(shared.health),
      ],
      providers: [{ provide: APP_FILTER, useClass: GrpcExceptionFilter }],
    };
  }
}
