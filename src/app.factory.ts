import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthImplementation } from 'grpc-health-check';
import { Logger } from 'nestjs-pino';
import { pino } from 'pino';
import { AppModule, type AppOptions, type AppShared } from './app.module';
import { rpcObserver } from './grpc/rpc-observer';
import { MetricsService } from './metrics/metrics.service';

const PINO_LEVELS = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
} as const;
import type { ResolvedAppConfig } from './config/app-config';
import {
  MOVIE_SERVICE_FULL_NAME,
  grpcServerOptions,
  type GrpcServerRef,
} from './grpc/grpc.options';
import { TrendingFeed } from './leaderboard/trending-feed.service';

/** The gRPC app, initialised (connected) but not yet listening. */
export async function createApp(
  config: ResolvedAppConfig,
  options: AppOptions = {},
): Promise<INestMicroservice> {
  const shared: AppShared = {
    health: new HealthImplementation({
      '': 'NOT_SERVING',
      [MOVIE_SERVICE_FULL_NAME]: 'NOT_SERVING',
    }),
    metrics: new MetricsService(),
    logger: pino({ level: PINO_LEVELS[config.logLevel] }),
  };
  const serverRef: GrpcServerRef = {};
  const app = await NestFactory.createMicroservice(AppModule.register(config, shared, options), {
    ...grpcServerOptions(config, shared.health, serverRef, [
      rpcObserver(shared.metrics, shared.logger.child({ context: 'rpc' })),
    ]),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  await app.init();
  running.set(app, { serverRef, graceMs: config.shutdownGraceMs });
  return app;
}

const running = new WeakMap<INestMicroservice, { serverRef: GrpcServerRef; graceMs: number }>();

/**
 * Graceful stop: new calls are refused, open streams end with UNAVAILABLE (the server's graceful
 * close waits for every call), in-flight calls get SHUTDOWN_GRACE_MS to finish and are then
 * cancelled; then buffered views are flushed and connections closed.
 */
export async function closeApp(app: INestMicroservice): Promise<void> {
  app.get(TrendingFeed).endAll();
  const { serverRef, graceMs } = running.get(app) ?? { serverRef: {}, graceMs: 0 };
  const grace = setTimeout(() => serverRef.server?.forceShutdown(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(grace);
  }
}
