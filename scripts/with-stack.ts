import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../src/stack/embedded-stack';

/** Runs a command with MONGODB_URI and REDIS_URL pointing at a fresh embedded stack, then stops it. */
async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const dataDir = mkdtempSync(join(tmpdir(), 'movie-cache-with-stack-'));
  // A Redis database per Stryker worker: each restarted worker gets a new, higher id.
  const stack = await startEmbeddedStack({
    dataDir,
    redis: true,
    mongo: true,
    redisArgs: ['--databases', '10000'],
  });
  try {
    process.exitCode = await new Promise<number>((resolve) =>
      spawn(command, args, {
        stdio: 'inherit',
        env: { ...process.env, MONGODB_URI: stack.mongoUri, REDIS_URL: stack.redisUrl },
      }).once('exit', (code) => resolve(code ?? 1)),
    );
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
