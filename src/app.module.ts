import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import type { HealthImplementation } from 'grpc-health-check';
import { CacheManagerModule, RedisModule } from './cache/redis.module';
import { GrpcExceptionFilter } from './common/grpc-exception.filter';
import type { ResolvedAppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { MoviesModule } from './movies/movies.module';

@Module({})
export class AppModule {
  static register(config: ResolvedAppConfig, health: HealthImplementation): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config, health),
        MongooseModule.forRoot(config.mongoUri, {
          serverSelectionTimeoutMS: config.mongoTimeoutMs,
          connectTimeoutMS: config.mongoTimeoutMs,
          // Fail fast instead of queueing queries while MongoDB is away.
          bufferCommands: false,
          appName: 'movie-cache',
        }),
        RedisModule,
        CacheManagerModule,
        MoviesModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: GrpcExceptionFilter }],
    };
  }
}
