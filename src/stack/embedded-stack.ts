import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { ChildService, startChildService } from './child-service';
import { FerretDbBackend, startFerretDb } from './ferretdb-server';
import { onFreePort } from './free-port';

export { FERRETDB_BIN, startFerretDb, type FerretDbBackend } from './ferretdb-server';

export interface EmbeddedStackOptions {
  dataDir: string;
  redis: boolean;
  mongo: boolean;
  /** FERRETDB_BACKEND's (default postgresql) unless given. */
  mongoBackend?: FerretDbBackend;
  /** Extra redis-server arguments. */
  redisArgs?: string[];
}

export interface EmbeddedStack {
  redisUrl?: string;
  mongoUri?: string;
  /** FerretDB's PostgreSQL database, when FerretDB runs on PostgreSQL. */
  postgresUrl?: string;
  /** Where that PostgreSQL keeps its files: under dataDir, or as root maybe outside it. */
  postgresDataDir?: string;
  stop(): Promise<void>;
}

const passwordOf = (args: string[]) => {
  const i = args.indexOf('--requirepass');
  return i >= 0 ? args[i + 1] : undefined;
};

async function redisAnswers(port: number, password?: string): Promise<boolean> {
  const client = new Redis({
    password,
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

/** `name` names the log file and, for cluster nodes, the directory (nodes.conf lives there). */
export async function startRedisServer(
  dataDir: string,
  port?: number,
  extraArgs: string[] = [],
  name = 'redis-server',
): Promise<ChildService> {
  const dir = join(dataDir, name === 'redis-server' ? 'redis' : name);
  mkdirSync(dir, { recursive: true });
  const start = (free: number) =>
    startChildService({
      name,
      command: 'redis-server',
      args: [
        ...['--port', String(free), '--bind', '127.0.0.1'],
        ...['--save', '', '--appendonly', 'no', '--dir', dir],
        ...extraArgs,
      ],
      port: free,
      logDir: join(dataDir, 'logs'),
      probe: () => redisAnswers(free, passwordOf(extraArgs)),
    });
  return onFreePort(start, port);
}

/** Starts redis-server and/or FerretDB (on PostgreSQL) as child processes with data under dataDir. */
export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const dataDir = resolve(options.dataDir);
  const [redis, mongo] = await Promise.all([
    options.redis ? startRedisServer(dataDir, undefined, options.redisArgs) : undefined,
    options.mongo ? startFerretDb(dataDir, undefined, options.mongoBackend) : undefined,
  ]);
  return {
    redisUrl: redis && `redis://127.0.0.1:${redis.port}`,
    mongoUri: mongo && `mongodb://127.0.0.1:${mongo.port}/sample_mflix`,
    postgresUrl: mongo?.postgresUrl,
    postgresDataDir: mongo?.postgresDataDir,
    stop: async () => {
      await Promise.all([redis?.stop(), mongo?.stop()]);
    },
  };
}
