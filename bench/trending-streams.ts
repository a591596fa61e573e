/**
 * Server CPU and memory with many StreamTrending subscribers open, side by side with none.
 * Starts its own Redis + FerretDB and the built server (npm run build first), then for each
 * phase: opens the streams, drives GetMovie traffic so rankings keep changing, samples the
 * server process. Usage: npm run bench:trending -- [--streams 1000] [--seconds 10]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pidusage from 'pidusage';
import { MovieApi } from '../src/grpc/movie-api';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { sleep } from '../src/common/sleep';
import { startService } from './service';

async function phase(api: MovieApi, pid: number, streams: number, seconds: number, ids: string[]) {
  const calls = Array.from({ length: streams }, (_, i) =>
    api.streamTrending({ limit: 10, windowSeconds: i % 2 ? 300 : 0, intervalMs: 1000 }),
  );
  let snapshots = 0;
  calls.forEach((call) => {
    call.on('data', () => (snapshots += 1));
    call.on('error', () => undefined);
  });
  await sleep(2_000);
  const open = (await api.getCacheStats()).trendingStreams;
  const samples: Array<{ cpu: number; memory: number }> = [];
  let reads = 0;
  const deadline = Date.now() + seconds * 1000;
  const traffic = (async () => {
    while (Date.now() < deadline) {
      await api.getMovie({ id: ids[Math.floor(Math.random() * ids.length)] });
      reads += 1;
      await sleep(20);
    }
  })();
  while (Date.now() < deadline) {
    await sleep(1000);
    samples.push(await pidusage(pid));
  }
  await traffic;
  calls.forEach((call) => call.cancel());
  await sleep(500);
  const cpu = samples.reduce((sum, s) => sum + s.cpu, 0) / samples.length;
  const rss = Math.max(...samples.map((s) => s.memory)) / 1024 / 1024;
  return { streams, open, cpu, rss, snapshots, reads };
}

async function main() {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
    },
  });
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-')),
    redis: true,
    mongo: true,
  });
  // One client opens every stream: the per-peer cap must not refuse it.
  const service = await startService({
    MONGODB_URI: stack.mongoUri!,
    REDIS_URL: stack.redisUrl!,
    TRENDING_MAX_STREAMS: String(Math.max(1000, streams)),
    TRENDING_MAX_STREAMS_PER_PEER: String(Math.max(1000, streams)),
  });
  const api = service.api;
  try {
    const ids = [
      '573a1390f29313caabcd42e8',
      '573a1390f29313caabcd446f',
      '573a1390f29313caabcd4eaf',
      '573a1390f29313caabcd5293',
    ];
    const rows = [
      await phase(api, service.pid, 0, seconds, ids),
      await phase(api, service.pid, streams, seconds, ids),
    ];
    console.log(
      '\nStreamTrending fan-out (server process; GetMovie every 20 ms; interval 1000 ms; half all-time, half 300 s window)',
    );
    console.table(
      rows.map((r) => ({
        'streams opened': r.streams,
        'open (server count)': r.open,
        'CPU % (mean)': r.cpu.toFixed(1),
        'RSS MB (max)': r.rss.toFixed(0),
        'snapshots received': r.snapshots,
        'GetMovie calls': r.reads,
      })),
    );
    console.log(`RSS ratio ${streams} streams / none: ${(rows[1].rss / rows[0].rss).toFixed(2)}`);
  } finally {
    await service.stop();
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
