/**
 * Hit and miss latency of two builds side by side (before and after a change to the cache core),
 * on one embedded stack: RunBenchmark (cold, Zipf over 1,000 movies, 20,000 lookups, concurrency
 * 16), the builds alternating for 3 rounds, each on its own Redis database.
 * Usage: npx tsx bench/compare-builds.ts <dist of build A> <dist of build B>
 * A build: git worktree add /tmp/a <commit> && cd /tmp/a && npm ci && npx tsc -p tsconfig.build.json
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { sleep } from '../src/common/sleep';
import { Distribution } from '../src/generated/client/movies/v1/movie_service';
import { MovieApi } from '../src/grpc/movie-api';
import { seedIfEmpty } from '../src/movies/import/seed-bundled';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { freePort } from '../src/stack/free-port';

async function main() {
  const builds = process.argv.slice(2);
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'fence-bench-')),
    redis: true,
    mongo: true,
  });
  const connection = await mongoose.createConnection(stack.mongoUri!).asPromise();
  await seedIfEmpty(connection);
  await connection.close();
  const servers = await Promise.all(
    builds.map(async (dist, i) => {
      const port = await freePort();
      const child = spawn('node', [join(dist, 'src/main.js')], {
        env: {
          ...process.env,
          MONGODB_URI: stack.mongoUri,
          REDIS_URL: `${stack.redisUrl}/${i + 1}`,
          GRPC_PORT: String(port),
          METRICS_PORT: '0',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const api = MovieApi.connect(`127.0.0.1:${port}`);
      for (let n = 0; n < 100; n += 1) {
        if (
          await api.getCacheStats().then(
            (s) => s.status === 'ok',
            () => false,
          )
        )
          break;
        await sleep(200);
      }
      return { dist, child, api };
    }),
  );
  const rows: string[] = [];
  for (let round = 1; round <= 3; round += 1) {
    for (const { dist, api } of servers) {
      const r = await api.runBenchmark({
        requests: 20_000,
        keySpace: 1_000,
        concurrency: 16,
        distribution: Distribution.DISTRIBUTION_ZIPF,
        seed: 7,
      });
      rows.push(
        [
          dist,
          round,
          r.hits,
          r.misses,
          r.hitLatency!.p50Ms,
          r.hitLatency!.p99Ms,
          r.missLatency!.p50Ms,
          r.missLatency!.p99Ms,
          Math.round(r.throughputRps),
        ]
          .map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v)))
          .join(' | '),
      );
      console.log(rows.at(-1));
    }
  }
  for (const { child, api } of servers) {
    api.close();
    child.kill('SIGTERM');
  }
  await stack.stop();
}

void main();
