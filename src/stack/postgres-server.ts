import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService, startChildService } from './child-service';
import { freePort } from './free-port';

const run = promisify(execFile);

/** The superuser role of the private cluster, whatever the OS user. */
export const POSTGRES_ROLE = 'postgres';

export interface PostgresServer extends ChildService {
  /** Unix socket directory; the server listens on no TCP port. */
  socketDir: string;
  /** Where the cluster's files are (see startPostgres). */
  dataDir: string;
  /** Runs SQL as the superuser (psql, stops at the first error). */
  sql(database: string, script: string): Promise<string>;
}

/** POSTGRES_BIN_DIR, else the newest Debian install, else the directory of `postgres` on PATH. */
export function postgresBinDir(): string {
  if (process.env.POSTGRES_BIN_DIR) return process.env.POSTGRES_BIN_DIR;
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => existsSync(join(debian, v, 'bin/postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length > 0) return join(debian, versions[0], 'bin');
  try {
    return dirname(execFileSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error('PostgreSQL not found: run "npm run setup" (or set POSTGRES_BIN_DIR)');
  }
}

interface OsUser {
  uid?: number;
  gid?: number;
  home?: string;
}

/** PostgreSQL refuses to run as root: then the cluster belongs to the postgres user. */
function clusterOwner(): OsUser {
  if (process.getuid?.() !== 0) return {};
  try {
    const entry = execFileSync('getent', ['passwd', POSTGRES_ROLE], { encoding: 'utf8' });
    const [, , uid, gid, , home] = entry.trim().split(':');
    return { uid: Number(uid), gid: Number(gid), home };
  } catch {
    throw new Error(
      'running as root needs a "postgres" user to own the cluster: run "npm run setup"',
    );
  }
}

function ownedBy(owner: OsUser, path: string): void {
  if (owner.uid !== undefined) chownSync(path, owner.uid, owner.gid!);
}

// Unix socket paths are limited to 107 bytes (sun_path).
function socketDirFor(rootDir: string, port: number, owner: OsUser): string {
  const dir = join(rootDir, 'run');
  if (join(dir, `.s.PGSQL.${port}`).length <= 100) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ownedBy(owner, dir);
    return dir;
  }
  const short = mkdtempSync(join(tmpdir(), 'mc-pg-'));
  ownedBy(owner, short);
  return short;
}

async function initCluster(bin: string, pgData: string, owner: OsUser, cwd: string): Promise<void> {
  try {
    await run(
      join(bin, 'initdb'),
      [
        `--pgdata=${pgData}`,
        `--username=${POSTGRES_ROLE}`,
        '--auth=trust', // only the owner can reach the socket (unix_socket_permissions=0700)
        '--encoding=UTF8',
        '--locale=C', // FerretDB accepts C, POSIX, C.UTF8 and en_US.UTF8 only
      ],
      { uid: owner.uid, gid: owner.gid, cwd },
    );
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`initdb ${pgData} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

/** Whether the postgres user can enter and write `dir` (every parent searchable). */
function reachableBy(owner: OsUser, dir: string): boolean {
  const { uid, gid } = owner;
  return spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid, gid }).status === 0;
}

/**
 * As root the cluster belongs to the postgres user, who cannot enter a clone under a 0700 folder
 * (root's home, mktemp -d). The cluster then lives in that user's home, one folder per rootDir.
 */
function clusterDir(rootDir: string, owner: OsUser): string {
  if (owner.uid === undefined) return rootDir;
  const parent = dirname(rootDir);
  // The first parent is ours (.data): search permission only, so the common case stays in the clone.
  chmodSync(parent, statSync(parent).mode | 0o001);
  if (reachableBy(owner, rootDir)) return rootDir;
  const home = owner.home!;
  const key = createHash('sha256').update(realpathSync(rootDir)).digest('hex').slice(0, 16);
  const dir = join(home, 'movie-cache', key);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(join(home, 'movie-cache'), owner.uid, owner.gid!);
  ownedBy(owner, dir);
  // Says which clone the folder serves, for whoever cleans up.
  writeFileSync(join(dir, 'CLONE'), `${rootDir}\n`);
  if (!reachableBy(owner, dir)) {
    throw new Error(
      `the postgres user cannot reach ${rootDir} nor ${dir}: choose another DATA_DIR`,
    );
  }
  return dir;
}

/**
 * A private PostgreSQL cluster in <rootDir>/data (created on first use), listening only on a unix
 * socket in <rootDir>/run, logging to <logDir>/postgres.log. As root, when the postgres user cannot
 * reach rootDir, the cluster lives in that user's home instead (`dataDir` says where).
 */
export async function startPostgres(rootDir: string, logDir: string): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const owner = clusterOwner();
  mkdirSync(dirname(rootDir), { recursive: true });
  mkdirSync(rootDir, { recursive: true, mode: 0o700 });
  ownedBy(owner, rootDir);
  rootDir = clusterDir(rootDir, owner);
  const pgData = join(rootDir, 'data');
  if (!existsSync(join(pgData, 'PG_VERSION'))) await initCluster(bin, pgData, owner, rootDir);

  const port = await freePort();
  const socketDir = socketDirFor(rootDir, port, owner);
  // From stdin, so statements run one by one (CREATE DATABASE refuses a transaction block).
  const psql = (database: string, script: string) =>
    new Promise<string>((resolve, reject) => {
      const args = [
        '-X',
        '-q',
        '-At',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        socketDir,
        '-p',
        String(port),
      ];
      const child = execFile(
        join(bin, 'psql'),
        [...args, '-U', POSTGRES_ROLE, '-d', database, '-f', '-'],
        { cwd: rootDir },
        (error, stdout, stderr) =>
          error ? reject(new Error(`psql: ${stderr || error.message}`)) : resolve(stdout),
      );
      child.stdin?.end(script);
    });

  const server = await startChildService({
    name: 'postgres',
    command: join(bin, 'postgres'),
    args: [
      ...['-D', pgData, '-p', String(port), '-k', socketDir],
      ...['-c', 'listen_addresses=', '-c', 'unix_socket_permissions=0700'],
      // FerretDB sends the field name as a parameter (_jsonb->$1 @> $2): only a plan made with
      // the values can use an expression index, so never switch to a generic plan.
      ...['-c', 'plan_cache_mode=force_custom_plan'],
      ...['-c', 'jit=off'], // compiling plans costs more than these short queries
    ],
    port,
    logDir,
    probe: async () => {
      await run(join(bin, 'pg_isready'), [
        '-q',
        '-h',
        socketDir,
        '-p',
        String(port),
        '-U',
        POSTGRES_ROLE,
      ]);
      return true;
    },
    stopSignal: 'SIGINT',
    uid: owner.uid,
    gid: owner.gid,
    cwd: rootDir,
  });
  return { ...server, socketDir, dataDir: rootDir, sql: psql };
}
