/** npm run bench's runs with more than one instance, and the hot key set they read. */
import mongoose from 'mongoose';
import { LatencyRecorder } from '../src/benchmark/latency-recorder';
import { sleep } from '../src/common/sleep';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { ghz } from './ghz';
import { startService } from './service';

export interface FleetResult {
  nearCache: string;
  'reads/s (both)': number;
  writes: number;
  'UpdateRating p50 ms': number;
  'UpdateRating p99 ms': number;
  'stale reads': number;
}

/**
 * Two instances (near-cache on, then off): ghz reads on both while one writer updates the hot
 * movies on the first; reads/s of both, write latency, and whether a read after a write on the
 * other instance ever returned the old rating.
 */
export async function twoInstanceRuns(
  stack: { mongoUri?: string; redisUrl?: string },
  serviceEnv: (cacheEnabled: boolean, nearCache?: string) => Record<string, string>,
  ids: string[],
  dataFile: string,
  seconds: number,
): Promise<FleetResult[]> {
  const fleets: FleetResult[] = [];
  for (const nearCache of ['on', 'off']) {
    const pair = [
      await startService(serviceEnv(true, nearCache)),
      await startService(serviceEnv(true, nearCache)),
    ];
    try {
      for (const service of pair) for (const id of ids) await service.api.getMovie({ id });
      const latencies = new LatencyRecorder();
      let stale = 0;
      let writes = 0;
      let running = true;
      const writer = (async () => {
        for (let i = 0; running; i += 1) {
          const id = ids[i % ids.length];
          const rating = (i % 100) / 10;
          const started = performance.now();
          await pair[0].api.updateRating({ id, rating });
          latencies.recordMs(performance.now() - started);
          writes += 1;
          if ((await pair[1].api.getMovie({ id })).movie?.rating !== rating) stale += 1;
          await sleep(20);
        }
      })();
      const reports = await Promise.all(
        pair.map((service) => ghz(service.address, 16, seconds, dataFile)),
      );
      running = false;
      await writer;
      const write = latencies.stats();
      fleets.push({
        nearCache,
        'reads/s (both)': Math.round(reports.reduce((sum, r) => sum + r.rps, 0)),
        writes,
        'UpdateRating p50 ms': Number(write.p50Ms.toFixed(2)),
        'UpdateRating p99 ms': Number(write.p99Ms.toFixed(2)),
        'stale reads': stale,
      });
    } finally {
      await Promise.all(pair.map((service) => service.stop()));
    }
  }
  return fleets;
}

export async function firstIds(mongoUri: string, n: number): Promise<string[]> {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  try {
    const rows = await connection
      .collection(MOVIES_COLLECTION)
      .find({}, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(n)
      .toArray();
    return rows.map((row) => String(row._id));
  } finally {
    await connection.close();
  }
}
