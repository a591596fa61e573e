import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack, type EmbeddedStack } from '../../src/stack/embedded-stack';

declare global {
  var __MOVIE_CACHE_STACK__: { stack: EmbeddedStack; dataDir: string } | undefined;
}

/** Real redis-server and FerretDB on free ports for the whole run, unless URLs are given. */
export default async function globalSetup(): Promise<void> {
  const mongoUri = process.env.MONGODB_URI;
  const redisUrl = process.env.REDIS_URL;
  const dataDir = mkdtempSync(join(tmpdir(), 'movie-cache-test-'));
  const stack = await startEmbeddedStack({ dataDir, redis: !redisUrl, mongo: !mongoUri });
  globalThis.__MOVIE_CACHE_STACK__ = { stack, dataDir };
  process.env.TEST_MONGODB_URI = mongoUri ?? stack.mongoUri;
  process.env.TEST_REDIS_URL = redisUrl ?? stack.redisUrl;
}
