/**
 * npm run bench -- --scenario heap [--seconds 6] [--rounds 2] [--only runbenchmark]: near-cache hits and the Nest floor
 * under each V8 heap setting, side by side per setting (rounds alternate), at c16 and c64: what
 * the heap cap and the young generation cost in throughput and p99, and give back in RSS. Then
 * RunBenchmark (100,000 requests over 1,000 keys at c32, cold) on one service per setting, the
 * settings taking turns each round.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz, sampleRss } from './ghz';
import {
  median,
  heapEnv,
  heapFlags,
  measureRounds,
  ratiosTo,
  startComparisonServer,
  type HeapSetting,
} from './hits';
import { hotCacheEnv, startService } from './service';

const SETTINGS: HeapSetting[] = [
  { oldMb: 128, semiMb: 0 },
  { oldMb: 128, semiMb: 8 },
  { oldMb: 128, semiMb: 16 },
  { oldMb: 128, semiMb: 32 },
  { oldMb: 192, semiMb: 16 },
  { oldMb: 256, semiMb: 16 },
  { oldMb: 0, semiMb: 0 },
];
/** RunBenchmark's settings: the young generation matters less there than the old space. */
const RUN_BENCHMARK_SETTINGS: HeapSetting[] = [
  { oldMb: 128, semiMb: 16 },
  { oldMb: 256, semiMb: 16 },
  { oldMb: 512, semiMb: 16 },
  { oldMb: 0, semiMb: 16 },
  { oldMb: 0, semiMb: 0 },
];

const label = ({ oldMb, semiMb }: HeapSetting) =>
  `${oldMb ? `old ${oldMb}` : 'uncapped'}${semiMb ? ` semi ${semiMb}` : ''}`;

export async function heapScenario(options: { seconds: number; rounds: number; only?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-heap-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const rows = [];
  try {
    for (const setting of options.only === 'runbenchmark' ? [] : SETTINGS) {
      const near = await startService(hotCacheEnv(stack, heapEnv(setting)));
      const floor = await startComparisonServer('floor', '', heapFlags(setting));
      try {
        const ids = await firstIds(stack.mongoUri!, 20);
        const dataFile = join(dir, 'ids.json');
        writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
        await ghz(near.address, 1, { requests: ids.length }, dataFile);
        const points = await measureRounds([floor, { ...near, name: 'near' }], {
          concurrencies: [16, 64],
          rounds: options.rounds,
          seconds: options.seconds,
          dataFile,
          connections: 4,
        });
        const ratios = ratiosTo(points, [['near', 'floor']]);
        for (const point of points.filter((p) => p.target === 'near')) {
          const ratio = ratios.find((r) => r.concurrency === point.concurrency)!;
          rows.push({
            heap: label(setting),
            c: point.concurrency,
            'near req/s': point.rps.toFixed(0),
            'near p99 ms': point.p99Ms.toFixed(2),
            'near RSS MB': point.serverRssMb.toFixed(0),
            'near CPU µs/call': point.serverCpuUs.toFixed(0),
            'throughput / floor': ratio.throughput,
            'p99 / floor': ratio.p99,
          });
        }
      } finally {
        await Promise.all([near.stop(), floor.stop()]);
      }
    }
    console.table(rows);
    console.table(await runBenchmarkRounds(stack, options.rounds));
  } finally {
    await stack.stop();
  }
}

/** RunBenchmark under each setting, rounds alternating: medians of its duration and max RSS. */
async function runBenchmarkRounds(stack: { mongoUri?: string; redisUrl?: string }, rounds: number) {
  const services = [];
  try {
    for (const setting of RUN_BENCHMARK_SETTINGS)
      services.push(await startService(hotCacheEnv(stack, heapEnv(setting))));
    const seconds = RUN_BENCHMARK_SETTINGS.map((): number[] => []);
    const rss = RUN_BENCHMARK_SETTINGS.map((): number[] => []);
    for (let round = 0; round < rounds; round += 1) {
      for (const [index, service] of services.entries()) {
        const [run, maxRss] = await sampleRss(
          service.pid,
          service.api.runBenchmark(
            { requests: 100_000, concurrency: 32, keySpace: 1_000, seed: 42 },
            undefined,
            { deadline: Date.now() + 180_000 },
          ),
        );
        seconds[index].push(run.durationMs / 1000);
        rss[index].push(maxRss);
        console.log(
          `round ${round + 1} ${label(RUN_BENCHMARK_SETTINGS[index])}: RunBenchmark ${(run.durationMs / 1000).toFixed(1)} s, RSS max ${maxRss.toFixed(0)} MB`,
        );
      }
    }
    return RUN_BENCHMARK_SETTINGS.map((setting, index) => ({
      heap: label(setting),
      'RunBenchmark 100k s': median(seconds[index]).toFixed(1),
      'RSS max MB': median(rss[index]).toFixed(0),
    }));
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
}
