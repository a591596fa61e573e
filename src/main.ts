import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { closeApp, createApp } from './app.factory';
import { ConfigError, loadConfig, type ResolvedAppConfig } from './config/app-config';
import { seedIfEmpty } from './movies/import/seed-bundled';
import { startEmbeddedStack, type EmbeddedStack } from './stack/embedded-stack';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const config = loadConfig();
  const embedded = !config.mongoUri || !config.redisUrl;
  let stack: EmbeddedStack | undefined;
  if (embedded) {
    logger.log(`starting the embedded stack (data in ${config.dataDir}/)`);
    stack = await startEmbeddedStack({
      dataDir: config.dataDir,
      redis: !config.redisUrl,
      mongo: !config.mongoUri,
    });
  }
  const resolved: ResolvedAppConfig = {
    ...config,
    mongoUri: config.mongoUri ?? stack!.mongoUri!,
    redisUrl: config.redisUrl ?? stack!.redisUrl!,
  };

  const app = await createApp(resolved).catch(async (error: unknown) => {
    await stack?.stop();
    throw error;
  });
  if (config.seedIfEmpty ?? !config.mongoUri) {
    const connection = app.get<Connection>(getConnectionToken());
    await connection
      .asPromise()
      .then(() => seedIfEmpty(connection))
      .then(
        (seeded) => seeded && logger.log(`imported ${seeded.inserted} bundled sample_mflix movies`),
      )
      .catch((error: Error) => logger.warn(`bundled movies not imported: ${error.message}`));
  }
  await app.listen();

  const target = `localhost:${config.grpc.port}`;
  logger.log(`MovieService listening on ${config.grpc.host}:${config.grpc.port}`);
  if (stack) {
    logger.log(`embedded MongoDB (FerretDB) ${resolved.mongoUri}, Redis ${resolved.redisUrl}`);
  }
  logger.log(
    `try: .tools/bin/grpcurl -plaintext -d '{"title": "The Great Train Robbery"}' ${target} movies.v1.MovieService/GetMovie`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    await closeApp(app);
    await stack?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof ConfigError ? error.message : ((error as Error)?.stack ?? String(error));
  new Logger('Bootstrap').error(message);
  process.exit(1);
});
