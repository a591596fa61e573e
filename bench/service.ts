import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';
import { MovieApi } from '../src/grpc/movie-api';
import { freePort } from '../src/stack/free-port';

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface RunningService {
  process: ChildProcess;
  pid: number;
  address: string;
  api: MovieApi;
  stop(): Promise<void>;
}

/** A built checkout of the service and the Node.js binary to run it on. */
export interface Build {
  root: string;
  node: string;
}

export const THIS_BUILD: Build = { root: projectRoot(), node: process.execPath };

/** The service's environment on `stack`, its copies fresh for the whole run: hits stay hits. */
export const hotCacheEnv = (
  stack: { mongoUri?: string; redisUrl?: string },
  extra: Record<string, string> = {},
): Record<string, string> => ({
  MONGODB_URI: stack.mongoUri!,
  REDIS_URL: stack.redisUrl!,
  CACHE_TTL_SECONDS: '3600',
  NEAR_CACHE_TTL_MS: '3600000',
  ...extra,
});

/**
 * The built service as `npm start` runs it (scripts/serve.sh), on a free port, returned once it
 * reports both dependencies up (and so has imported the bundled movies, with SEED_IF_EMPTY).
 */
export async function startService(
  env: Record<string, string>,
  build: Build = THIS_BUILD,
): Promise<RunningService> {
  const port = await freePort();
  const child = spawn('sh', [join(build.root, 'scripts/serve.sh'), 'dev'], {
    env: {
      ...process.env,
      PATH: `${dirname(build.node)}:${process.env.PATH ?? ''}`,
      GRPC_PORT: String(port),
      METRICS_PORT: '0',
      SEED_IF_EMPTY: 'true',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  const api = MovieApi.connect(address);
  const stop = async () => {
    api.close();
    child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null)
      throw new Error(`the service at ${address} exited with ${child.exitCode}`);
    const ready = await api.getCacheStats().then(
      (stats) => stats.status === 'ok',
      () => false,
    );
    if (ready) return { process: child, pid: child.pid!, address, api, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`the service at ${address} did not become ready`);
}
