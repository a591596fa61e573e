import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths';
import { MovieApi } from '../../src/grpc/movie-api';
import { freePort } from '../../src/stack/free-port';
import { testClusterNodes, testServers } from './test-env';
import { until } from './wait';

/** Compiles dist/ (the service as users run it). */
export function buildService(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: projectRoot(),
    stdio: 'ignore',
  });
}

export interface ServiceProcess {
  api: MovieApi;
  address: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: gone without a goodbye. */
  kill(): void;
  /** Sends a signal, e.g. SIGSTOP/SIGCONT to freeze and resume it. */
  signal(signal: NodeJS.Signals): void;
}

/** The shared test Redis (the cluster on the cluster run), unless `env` names one. */
const redisEnv = (env: Record<string, string>): Record<string, string> => {
  if (env.REDIS_URL || env.REDIS_CLUSTER_NODES) return {};
  const cluster = testClusterNodes();
  return cluster ? { REDIS_CLUSTER_NODES: cluster } : { REDIS_URL: testServers().redisUrl };
};

/** dist/src/main.js as a process of its own, once it answers GetCacheStats with Redis up. */
export async function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn('node', [join(projectRoot(), 'dist/src/main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(port),
      METRICS_PORT: '0',
      LOG_LEVEL: 'error',
      ...redisEnv(env),
      ...env,
    },
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const address = `127.0.0.1:${port}`;
  const api = MovieApi.connect(address, env.ADMIN_TOKEN);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  try {
    // Until it serves with Redis up, or exits (a port taken meanwhile, a bad config).
    await until(
      async () =>
        exitCode !== undefined ||
        (await api.getCacheStats().catch(() => undefined))?.redisOk === true,
      30_000,
    );
    if (exitCode !== undefined) throw new Error(`it exited with ${exitCode}`);
  } catch (error) {
    api.close();
    child.kill('SIGKILL');
    throw new Error(
      `the service on ${address} did not start: ${(error as Error).message}; its output:\n${output.slice(-4_000)}`,
      { cause: error },
    );
  }
  return {
    api,
    address,
    output: () => output,
    stop: async () => {
      api.close();
      child.kill('SIGTERM');
      return exited;
    },
    kill: () => {
      api.close();
      child.kill('SIGKILL');
    },
    signal: (signal) => void child.kill(signal),
  };
}
