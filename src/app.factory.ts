import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthImplementation } from 'grpc-health-check';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import type { ResolvedAppConfig } from './config/app-config';
import { MOVIE_SERVICE_FULL_NAME, grpcServerOptions } from './grpc/grpc.options';
import { TrendingFeed } from './leaderboard/trending-feed.service';

/** The gRPC app, initialised (connected) but not yet listening. */
export async function createApp(
  config: ResolvedAppConfig,
  options: AppOptions = {},
): Promise<INestMicroservice> {
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    [MOVIE_SERVICE_FULL_NAME]: 'NOT_SERVING',
  });
  const app = await NestFactory.createMicroservice(AppModule.register(config, health, options), {
    ...grpcServerOptions(`${config.grpc.host}:${config.grpc.port}`, health),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  await app.init();
  return app;
}

/** Ends open streams first: the gRPC server's graceful close waits for every call to finish. */
export async function closeApp(app: INestMicroservice): Promise<void> {
  app.get(TrendingFeed).endAll();
  await app.close();
}
