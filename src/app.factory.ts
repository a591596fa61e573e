import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthImplementation } from 'grpc-health-check';
import { Logger } from 'nestjs-pino';
import { pino } from 'pino';
import { AppModule, type AppOptions, type AppShared } from './app.module';
import type { ResolvedAppConfig } from './config/app-config';
import { MOVIE_SERVICE_FULL_NAME } from './grpc/grpc-channel';
import { forceShutdown } from './grpc/force-shutdown';
import { grpcServerOptions, type GrpcServerRef } from './grpc/grpc-server.options';
import { observeCalls } from './grpc/rpc-observer';
import { telemetry, traceFields } from './telemetry/tracer';
import { MetricsService } from './metrics/metrics.service';
import { TrendingFeed } from './trending/trending-feed.service';

const PINO_LEVELS = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
} as const;

export interface CreateAppOptions extends AppOptions {
  /** Human-readable log lines (development on a terminal) instead of JSON. */
  prettyLogs?: boolean;
}

const running = new WeakMap<INestMicroservice, { serverRef: GrpcServerRef; graceMs: number }>();

/**
 * The gRPC app, created but not yet listening. Lifecycle hooks run in listen(): NestMicroservice
 * would run them twice after an explicit init().
 */
export async function createApp(
  config: ResolvedAppConfig,
  options: CreateAppOptions = {},
): Promise<INestMicroservice> {
  const shared: AppShared = {
    health: new HealthImplementation({
      '': 'NOT_SERVING',
      [MOVIE_SERVICE_FULL_NAME]: 'NOT_SERVING',
    }),
    metrics: new MetricsService(),
    logger: pino({
      level: PINO_LEVELS[config.logLevel],
      transport: options.prettyLogs ? { target: 'pino-pretty' } : undefined,
      // Log lines inside a traced call carry its trace_id and span_id.
      mixin: telemetry.enabled ? traceFields : undefined,
    }),
  };
  const serverRef: GrpcServerRef = {};
  const app = await NestFactory.createMicroservice(AppModule.register(config, shared, options), {
    ...grpcServerOptions(config, shared.health, serverRef, (server) =>
      observeCalls(server, shared.metrics, shared.logger.child({ context: 'rpc' })),
    ),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  running.set(app, { serverRef, graceMs: config.shutdownGraceMs });
  return app;
}

/**
 * Graceful stop: new calls are refused, open streams end with UNAVAILABLE (the server's graceful
 * close waits for every call), in-flight calls get SHUTDOWN_GRACE_MS to finish and are then
 * cancelled; then buffered views are flushed and connections closed.
 */
export async function closeApp(app: INestMicroservice): Promise<void> {
  app.get(TrendingFeed).endAll();
  const { serverRef, graceMs } = running.get(app) ?? { serverRef: {}, graceMs: 0 };
  const grace = setTimeout(() => serverRef.server && forceShutdown(serverRef.server), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(grace);
  }
}

/** How long past SHUTDOWN_GRACE_MS a shutdown may take before the process exits anyway. */
export const SHUTDOWN_STUCK_MS = 10_000;

/**
 * The shutdown a signal starts, once: closes the app (then runs `after`) and exits 0. A close that
 * has not finished SHUTDOWN_STUCK_MS after the grace (a hook waiting on something that never
 * answers) is reported and the process exits 1, rather than never.
 */
export function shutdownOnce(
  app: INestMicroservice,
  after?: () => Promise<void>,
  exit: (code: number) => void = (code) => process.exit(code),
): (signal: string) => Promise<void> {
  let stopping = false;
  return async (signal) => {
    if (stopping) return;
    stopping = true;
    const logger = app.get(Logger);
    logger.log(`${signal}: shutting down`, 'Bootstrap');
    const limitMs = (running.get(app)?.graceMs ?? 0) + SHUTDOWN_STUCK_MS;
    const stuck = setTimeout(() => {
      logger.error(`${signal}: shutdown still not done after ${limitMs} ms; exiting`, 'Bootstrap');
      exit(1);
    }, limitMs);
    stuck.unref();
    await closeApp(app);
    await after?.();
    clearTimeout(stuck);
    exit(0);
  };
}

/** Shuts down (shutdownOnce) on the first SIGINT or SIGTERM. */
export function closeOnSignal(app: INestMicroservice, after?: () => Promise<void>): void {
  const shutdown = shutdownOnce(app, after);
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
