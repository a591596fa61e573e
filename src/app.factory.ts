import type { INestMicroservice, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthImplementation } from 'grpc-health-check';
import { AppModule } from './app.module';
import type { AppConfig, ResolvedAppConfig } from './config/app-config';
import { MOVIE_SERVICE_FULL_NAME, grpcServerOptions } from './grpc/grpc.options';
import { TrendingFeed } from './leaderboard/trending-feed.service';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export function logLevels(level: AppConfig['logLevel']): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/** The gRPC app, initialised (connected) but not yet listening. */
export async function createApp(config: ResolvedAppConfig): Promise<INestMicroservice> {
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    [MOVIE_SERVICE_FULL_NAME]: 'NOT_SERVING',
  });
  const app = await NestFactory.createMicroservice(AppModule.register(config, health), {
    ...grpcServerOptions(`${config.grpc.host}:${config.grpc.port}`, health),
    logger: logLevels(config.logLevel),
  });
  await app.init();
  return app;
}

/** Ends open streams first: the gRPC server's graceful close waits for every call to finish. */
export async function closeApp(app: INestMicroservice): Promise<void> {
  app.get(TrendingFeed).endAll();
  await app.close();
}
