import './common/node-version';
import 'reflect-metadata';
import { tracing } from './telemetry/register';
import { Logger } from '@nestjs/common';
import { closeOnSignal, createApp } from './app.factory';
import { logAdminAccess } from './grpc/admin-token.guard';
import { ConfigError, loadConfig, type ResolvedAppConfig } from './config/app-config';
import { seedAppIfEmpty } from './movies/import/seed-bundled';

/** Production entry (the Docker image): MONGODB_URI and REDIS_URL are required. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  if (!config.mongoUri || !config.redisUrl) {
    throw new ConfigError(
      'MONGODB_URI and REDIS_URL are required (npm start runs the embedded stack)',
    );
  }
  const app = await createApp(config as ResolvedAppConfig);
  if (config.seedIfEmpty) await seedAppIfEmpty(app);
  await app.listen();
  const logger = new Logger('Bootstrap');
  logger.log(
    `MovieService listening on ${config.grpc.host}:${config.grpc.port} (Node.js ${process.version})`,
  );
  logAdminAccess(logger, config);
  closeOnSignal(app, async () => tracing?.shutdown());
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof ConfigError ? error.message : ((error as Error)?.stack ?? String(error));
  new Logger('Bootstrap').error(message);
  process.exit(1);
});
