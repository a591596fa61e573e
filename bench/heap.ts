/**
 * npm run bench -- --scenario heap [--seconds 6] [--rounds 2]: near-cache hits and the Nest floor
 * under each V8 heap setting, side by side per setting (rounds alternate), at c16 and c64: what
 * the heap cap and the young generation cost in throughput and p99, and give back in RSS.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz } from './ghz';
import {
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
  { oldMb: 0, semiMb: 0 },
];

const label = ({ oldMb, semiMb }: HeapSetting) =>
  `${oldMb ? `old ${oldMb}` : 'uncapped'}${semiMb ? ` semi ${semiMb}` : ''}`;

export async function heapScenario(options: { seconds: number; rounds: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-heap-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const rows = [];
  try {
    for (const setting of SETTINGS) {
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
  } finally {
    await stack.stop();
  }
  console.table(rows);
}
