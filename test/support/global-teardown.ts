import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__MOVIE_CACHE_STACK__;
  if (!started) return;
  await Promise.all([
    started.stack.stop(),
    started.cluster?.stop(),
    ...started.workerRedis.map((redis) => redis.stop()),
  ]);
  // A PostgreSQL cluster is tens of megabytes: do not leave one in the temp dir per run.
  rmSync(started.dataDir, { recursive: true, force: true });
}
