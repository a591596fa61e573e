import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { projectRoot } from '../common/paths';
import { changeOutboxSql } from './change-outbox';
import { ChildService, startChildService } from './child-service';
import { onFreePort } from './free-port';
import { POSTGRES_ROLE, startPostgres } from './postgres-server';
import { pushdownIndexesSql } from './pushdown-indexes';

export const FERRETDB_BIN = process.env.FERRETDB_BIN ?? join(projectRoot(), '.tools/bin/ferretdb');

/** postgresql: a private PostgreSQL cluster (the default); sqlite: FerretDB's SQLite files (slow). */
export type FerretDbBackend = 'postgresql' | 'sqlite';

export interface FerretDbService extends ChildService {
  /** FerretDB's PostgreSQL database, where the change outbox is (postgresql backend only). */
  postgresUrl?: string;
  /** Where that PostgreSQL keeps its files (see startPostgres). */
  postgresDataDir?: string;
}

const FERRETDB_DATABASE = 'ferretdb';

export function ferretDbBackend(): FerretDbBackend {
  const backend = process.env.FERRETDB_BACKEND || 'postgresql';
  if (backend !== 'postgresql' && backend !== 'sqlite') {
    throw new Error(`FERRETDB_BACKEND must be postgresql or sqlite, not ${backend}`);
  }
  return backend;
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

/** FerretDB with these backend flags, on `port` or a free one (another if it is taken first). */
function startFerretDbProcess(
  dataDir: string,
  port: number | undefined,
  backendArgs: string[],
): Promise<ChildService> {
  const stateDir = join(dataDir, 'ferretdb');
  mkdirSync(stateDir, { recursive: true });
  const start = (free: number) =>
    startChildService({
      name: 'ferretdb',
      command: FERRETDB_BIN,
      args: [
        ...backendArgs,
        `--listen-addr=127.0.0.1:${free}`,
        '--telemetry=disable',
        '--debug-addr=-',
        `--state-dir=${stateDir}`,
        '--log-level=warn',
      ],
      port: free,
      logDir: join(dataDir, 'logs'),
      // FerretDB allocates a lot per query: collecting less often gave 15-20% more GetMovie misses/s
      // through the service on 2 cores (GOGC=400 against Go's 100), for a few MB more heap.
      env: { ...process.env, GOGC: process.env.GOGC ?? '400' },
      probe: () => mongoAnswers(`mongodb://127.0.0.1:${free}/`),
    });
  return onFreePort(start, port);
}

/** FerretDB on a private PostgreSQL cluster in <dataDir>/postgres; stop() stops both. */
async function startOnPostgres(dataDir: string, port?: number): Promise<FerretDbService> {
  const postgres = await startPostgres(join(dataDir, 'postgres'), join(dataDir, 'logs'));
  try {
    await postgres.sql(
      'postgres',
      `SELECT 'CREATE DATABASE ${FERRETDB_DATABASE}'
        WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${FERRETDB_DATABASE}')\\gexec`,
    );
    await postgres.sql(FERRETDB_DATABASE, pushdownIndexesSql());
    await postgres.sql(FERRETDB_DATABASE, changeOutboxSql());
    const host = encodeURIComponent(postgres.socketDir);
    const url = `postgres://${POSTGRES_ROLE}@/${FERRETDB_DATABASE}?host=${host}&port=${postgres.port}`;
    const ferret = await startFerretDbProcess(dataDir, port, [
      '--handler=postgresql',
      `--postgresql-url=${url}`,
    ]);
    return {
      ...ferret,
      postgresUrl: url,
      postgresDataDir: postgres.dataDir,
      stop: async () => {
        await ferret.stop();
        await postgres.stop();
      },
    };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

/**
 * FerretDB (MongoDB wire protocol) on 127.0.0.1:port with its data under dataDir; the backend is
 * FERRETDB_BACKEND's unless given. Restarting on the same dataDir keeps the data.
 */
export async function startFerretDb(
  dataDir: string,
  port?: number,
  backend: FerretDbBackend = ferretDbBackend(),
): Promise<FerretDbService> {
  if (!existsSync(FERRETDB_BIN)) {
    throw new Error(`FerretDB not found at ${FERRETDB_BIN}: run "npm run setup"`);
  }
  if (backend === 'postgresql') return startOnPostgres(dataDir, port);
  const dir = join(dataDir, 'ferretdb');
  mkdirSync(dir, { recursive: true });
  return startFerretDbProcess(dataDir, port, ['--handler=sqlite', `--sqlite-url=file:${dir}/`]);
}
