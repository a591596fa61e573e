import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { HealthImplementation } from 'grpc-health-check';
import { LoggerModule } from 'nestjs-pino';
import { MovieCacheModule } from './cache/movie-cache.module';
import { CacheManagerModule, RedisModule } from './cache/redis.module';
import { GrpcExceptionFilter } from './common/grpc-exception.filter';
import type { ResolvedAppConfig } from './config/app-config';
import type { FillHook } from './cache/fill-hook';

export interface AppOptions {
  /** Test seam between a miss's MongoDB read and its cache fill. */
  fillHook?: FillHook;
}

/** What the app shares with the gRPC server it is created with. */
export interface AppShared {
  health: HealthImplementation;
  metrics: MetricsService;
  logger: Logger;
}
import { ConfigModule } from './config/config.module';
import { WellFormedRequestGuard } from './grpc/malformed-request';
import { MetricsModule } from './metrics/metrics.module';
import type { MetricsService } from './metrics/metrics.service';
import type { Logger } from 'pino';
import { MoviesModule } from './movies/movies.module';
import { mongooseOptions, watchConnection } from './movies/mongo-connection';

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
        ConfigModule.register(config, shared.health),
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
        MovieCacheModule.register(options.fillHook),
        MoviesModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: GrpcExceptionFilter },
        { provide: APP_GUARD, useClass: WellFormedRequestGuard },
      ],
    };
  }
}
