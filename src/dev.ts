import './common/node-version';
import 'reflect-metadata';
import { tracing } from './telemetry/register';
import { Logger } from '@nestjs/common';
import { closeOnSignal, createApp } from './app.factory';
import { logAdminAccess } from './grpc/admin-token.guard';
import { ConfigError, loadConfig, type ResolvedAppConfig } from './config/app-config';
import { seedAppIfEmpty } from './movies/import/seed-bundled';
import { startEmbeddedStack, type EmbeddedStack } from './stack/embedded-stack';

/**
 * Development entry (npm start): starts the embedded redis-server and MongoDB-compatible server
 * for whichever of REDIS_URL / MONGODB_URI is unset, imports the bundled movies into an empty
 * catalogue, then serves.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const config = loadConfig();
  let stack: EmbeddedStack | undefined;
  if (!config.mongoUri || !config.redisUrl) {
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
    // The embedded database's changes come from its PostgreSQL.
    changeFeed: {
      ...config.changeFeed,
      postgresUrl: config.changeFeed.postgresUrl ?? stack?.postgresUrl,
    },
  };
  const app = await createApp(resolved, { prettyLogs: process.stdout.isTTY }).catch(
    async (error: unknown) => {
      await stack?.stop();
      throw error;
    },
  );
  if (config.seedIfEmpty ?? !config.mongoUri) await seedAppIfEmpty(app);
  await app.listen();
  logger.log(
    `MovieService listening on ${config.grpc.host}:${config.grpc.port} (Node.js ${process.version})`,
  );
  logAdminAccess(logger, config);
  if (stack) logger.log(`embedded MongoDB ${resolved.mongoUri}, Redis ${resolved.redisUrl}`);
  if (stack?.postgresDataDir) logger.log(`embedded PostgreSQL data in ${stack.postgresDataDir}`);
  logger.log(
    `try: .tools/bin/grpcurl -plaintext -d '{"title": "The Great Train Robbery"}' localhost:${config.grpc.port} movies.v1.MovieService/GetMovie`,
  );
  closeOnSignal(app, async () => {
    await tracing?.shutdown();
    await stack?.stop();
  });
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof ConfigError ? error.message : ((error as Error)?.stack ?? String(error));
  new Logger('Bootstrap').error(message);
  process.exit(1);
});
