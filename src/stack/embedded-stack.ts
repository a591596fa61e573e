import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import mongoose from 'mongoose';
import { projectRoot } from '../common/paths';
import { ChildService, startChildService } from './child-service';
import { freePort } from './free-port';

export interface EmbeddedStackOptions {
  dataDir: string;
  redis: boolean;
  mongo: boolean;
}

export interface EmbeddedStack {
  redisUrl?: string;
  mongoUri?: string;
  stop(): Promise<void>;
}

export const FERRETDB_BIN = process.env.FERRETDB_BIN ?? join(projectRoot(), '.tools/bin/ferretdb');

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

async function mongoAnswers(uri: string): Promise<boolean> {
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 500 });
  try {
    await connection.asPromise();
    await connection.db?.admin().command({ ping: 1 });
    return true;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export async function startRedisServer(
  dataDir: string,
  port?: number,
  extraArgs: string[] = [],
): Promise<ChildService> {
  port ??= await freePort();
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  return startChildService({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extraArgs,
    ],
    port,
    logDir: join(dataDir, 'logs'),
    probe: () => redisAnswers(port, passwordOf(extraArgs)),
  });
}

export async function startFerretDb(dataDir: string, port?: number): Promise<ChildService> {
  if (!existsSync(FERRETDB_BIN)) {
    throw new Error(`FerretDB not found at ${FERRETDB_BIN}: run "npm run setup"`);
  }
  port ??= await freePort();
  const dir = join(dataDir, 'ferretdb');
  mkdirSync(dir, { recursive: true });
  return startChildService({
    name: 'ferretdb',
    command: FERRETDB_BIN,
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      `--state-dir=${dir}`,
      '--log-level=warn',
    ],
    port,
    logDir: join(dataDir, 'logs'),
    probe: () => mongoAnswers(`mongodb://127.0.0.1:${port!}/`),
  });
}

/** Starts redis-server and/or FerretDB (SQLite) as child processes with data under dataDir. */
export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  const dataDir = resolve(options.dataDir);
  const [redis, mongo] = await Promise.all([
    options.redis ? startRedisServer(dataDir) : undefined,
    options.mongo ? startFerretDb(dataDir) : undefined,
  ]);
  return {
    redisUrl: redis && `redis://127.0.0.1:${redis.port}`,
    mongoUri: mongo && `mongodb://127.0.0.1:${mongo.port}/sample_mflix`,
    stop: async () => {
      await Promise.all([redis?.stop(), mongo?.stop()]);
    },
  };
}
