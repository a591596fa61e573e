import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { HealthImplementation } from 'grpc-health-check';
import { LoggerModule } from 'nestjs-pino';
import { MovieCacheModule } from './cache/movie-cache.module';
import { CacheManagerModule, RedisModule } from './cache/redis.module';
import { GrpcExceptionFilter } from './common/grpc-exception.filter';
import { RpcObserverInterceptor } from './common/rpc-observer.interceptor';
import type { ResolvedAppConfig } from './config/app-config';
import type { FillHook } from './cache/fill-hook';

export interface AppOptions {
  /** Test seam between a miss's MongoDB read and its cache fill. */
  fillHook?: FillHook;
}
import { ConfigModule } from './config/config.module';
import { WellFormedRequestGuard } from './grpc/malformed-request';
import { MetricsModule } from './metrics/metrics.module';
import { MoviesModule } from './movies/movies.module';
import { mongooseOptions, watchConnection } from './movies/mongo-connection';

const PINO_LEVELS = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

@Module({})
export class AppModule {
  static register(
    config: ResolvedAppConfig,
    health: HealthImplementation,
    options: AppOptions = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config, health),
        LoggerModule.forRoot({
          pinoHttp: {
            level: PINO_LEVELS[config.logLevel],
            autoLogging: false,
            quietReqLogger: true,
          },
        }),
        MetricsModule,
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
        { provide: APP_INTERCEPTOR, useClass: RpcObserverInterceptor },
        { provide: APP_GUARD, useClass: WellFormedRequestGuard },
      ],
    };
  }
}
