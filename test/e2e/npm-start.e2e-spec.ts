import { exec, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/common/paths';
import { freePort } from '../../src/stack/free-port';
import { buildService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';
import { until } from '../support/wait';

const root = projectRoot();
const isRoot = process.getuid?.() === 0;

/** The project's files as a fresh clone has them (tracked and new, not ignored), plus the build. */
function cloneInto(dir: string): void {
  execFileSync(
    'sh',
    [
      '-c',
      `git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "${dir}"`,
    ],
    {
      cwd: root,
    },
  );
  // Hard links, not a symlink: an npm ci in the clone must not empty the project's node_modules.
  execFileSync('cp', ['-al', join(root, 'node_modules'), join(dir, 'node_modules')]);
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
}

/** As root, the embedded PostgreSQL of a clone the postgres user cannot reach lives in its home. */
function postgresFoldersOf(clone: string): string[] {
  const home = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).split(':')[5];
  const base = join(home, 'movie-cache');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((key) => join(base, key))
    .filter((dir) => {
      const owner = join(dir, 'CLONE');
      return existsSync(owner) && readFileSync(owner, 'utf8').trim().startsWith(clone);
    });
}

/** The command after "try: " in the boot log (JSON lines when not on a terminal). */
function tryLine(output: string): string | undefined {
  for (const line of output.split('\n')) {
    const msg = line.startsWith('{') ? (JSON.parse(line) as { msg?: string }).msg : line;
    if (msg?.startsWith('try: ')) return msg.slice('try: '.length);
  }
  return undefined;
}

describe("npm start in a fresh clone under a 0700 folder (root's home, mktemp -d)", () => {
  beforeAll(buildService, 120_000);

  it('serves, answers the grpcurl line its boot log suggests, and exits 0 on SIGTERM', async () => {
    const home = tempDir('movie-cache-home-');
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const clone = join(home, 'movie-cache');
    mkdirSync(clone);
    cloneInto(clone);
    const port = await freePort();
    let output = '';
    const server = spawn('npm', ['start'], {
      cwd: clone,
      detached: true, // its own process group, as in a terminal
      env: {
        ...process.env,
        MONGODB_URI: '',
        REDIS_URL: '',
        GRPC_PORT: String(port),
        METRICS_PORT: '0',
        LOG_LEVEL: 'log',
      },
    });
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      await Promise.race([
        until(async () => tryLine(output) !== undefined, 120_000),
        exited.then((code) => Promise.reject(new Error(`npm start exited ${code}:\n${output}`))),
      ]);
      const { stdout } = await promisify(exec)(tryLine(output)!, { cwd: clone });

      expect(JSON.parse(stdout)).toMatchObject({
        movie: { title: 'The Great Train Robbery', year: 1903 },
      });
      if (isRoot) expect(postgresFoldersOf(clone)).toHaveLength(1);
    } finally {
      // The service itself, as a supervisor stops it: npm passes on its exit code.
      const service = spawnSync('pgrep', ['-g', String(server.pid), '-f', 'dist/src/dev.js'], {
        encoding: 'utf8',
      }).stdout.trim();
      if (service) process.kill(Number(service.split('\n')[0]), 'SIGTERM');
      else if (server.exitCode === null) process.kill(-server.pid!, 'SIGKILL');
      await exited;
      if (isRoot) for (const dir of postgresFoldersOf(clone)) rmSync(dir, { recursive: true });
    }
    expect(await exited).toBe(0);
  }, 180_000);
});
