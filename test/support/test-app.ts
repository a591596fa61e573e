import type { INestMicroservice } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Document } from 'bson';
import type Redis from 'ioredis';
import type { Connection, mongo } from 'mongoose';
import { closeApp, createApp } from '../../src/app.factory';
import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import type { ResolvedAppConfig } from '../../src/config/app-config';
import { MovieApi } from '../../src/grpc/movie-api';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { freePort } from '../../src/stack/free-port';
import { inspectRedis, testConfig } from './test-env';

export interface TestApp {
  app: INestMicroservice;
  config: ResolvedAppConfig;
  address: string;
  api: MovieApi;
  redis: Redis;
  movies: mongo.Collection;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Documents inserted before the app starts. */
  movies?: Document[];
  /** Replaces parts of the config after the environment was read (e.g. servers of the test's own). */
  config?: Partial<ResolvedAppConfig>;
  /** Keep Redis contents (default: the Redis database is flushed first). */
  keepRedis?: boolean;
  hooks?: CacheHooks;
  /** Wait for MongoDB before returning (default); false for tests that start it down. */
  awaitMongo?: boolean;
}

/** Boots the real app on a free port against real Redis and FerretDB, with a fresh database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const port = await freePort();
  const config: ResolvedAppConfig = {
    ...testConfig({ GRPC_PORT: String(port), ...options.env }),
    ...options.config,
  };
  const redis = inspectRedis(config.redisUrl);
  if (!options.keepRedis) await redis.flushdb();
  const app = await createApp(config, { hooks: options.hooks });
  const connection = app.get<Connection>(getConnectionToken());
  const movies = connection.collection(MOVIES_COLLECTION) as unknown as mongo.Collection;
  if (options.awaitMongo !== false) await connection.asPromise();
  if (options.movies?.length) await movies.insertMany(options.movies);
  await app.listen();
  const address = `127.0.0.1:${port}`;
  const api = MovieApi.connect(address, config.adminToken);
  return {
    app,
    config,
    address,
    api,
    redis,
    movies,
    close: async () => {
      api.close();
      await connection.db?.dropDatabase().catch(() => undefined);
      await closeApp(app);
      redis.disconnect();
    },
  };
}
