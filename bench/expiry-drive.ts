/** The load of the expiry scenarios (bench/expiry.ts): workers, windows and their report. */
import { status, type ServiceError } from '@grpc/grpc-js';
import { build } from 'hdr-histogram-js';
import { requestSequence } from '../src/benchmark/workload';
import { CacheStatus, Distribution } from '../src/generated/client/movies/v1/movie_service';
import type { RunningService } from './service';

export const WINDOW_MS = 10_000;
export const WORKERS = 8;
/** The hottest keys: under Zipf(1) over 1,000 movies, each read several times a second here. */
export const HOT_KEYS = 20;

export interface Window {
  reads: number;
  misses: number;
  hotMisses: number;
  failed: number;
  failedCached: number;
  stale: number;
  latency: ReturnType<typeof build>;
}

export interface Variant {
  name: string;
  env: Record<string, string>;
  service?: RunningService;
  windows: Window[];
  metricsPort: number;
}

export const newWindow = (): Window => ({
  reads: 0,
  misses: 0,
  hotMisses: 0,
  failed: 0,
  failedCached: 0,
  stale: 0,
  latency: build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  }),
});

/** MongoDB reads by id the service has made, from its Prometheus endpoint. */
export async function mongoReads(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [
    ...text.matchAll(
      /movie_mongodb_query_duration_seconds_count\{[^}]*operation="findById"[^}]*\} (\d+)/g,
    ),
  ]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
}

/** Drives every variant with the same Zipf sequence until `stop` resolves. */
export async function drive(
  variants: Variant[],
  ids: string[],
  started: number,
  stop: Promise<void>,
) {
  const sequence = requestSequence(
    {
      requests: 1_000_000,
      concurrency: WORKERS,
      keySpace: ids.length,
      distribution: Distribution.DISTRIBUTION_ZIPF,
      zipfExponent: 1,
      seed: 7,
      warmStart: false,
      compareUncached: false,
    },
    ids.length,
  );
  let stopped = false;
  void stop.then(() => (stopped = true));
  const seen = variants.map(() => new Set<number>());
  await Promise.all(
    variants.flatMap((variant, v) =>
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let i = w; !stopped; i = (i + WORKERS) % sequence.length) {
          const key = sequence[i];
          const window = Math.floor((Date.now() - started) / WINDOW_MS);
          const tally = (variant.windows[window] ??= newWindow());
          const t0 = performance.now();
          try {
            const { cacheStatus } = await variant.service!.api.getMovie({ id: ids[key] });
            tally.latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
            tally.reads += 1;
            if (cacheStatus === CacheStatus.CACHE_STATUS_MISS) {
              tally.misses += 1;
              if (key < HOT_KEYS && window > 0) tally.hotMisses += 1;
            }
            if (cacheStatus === CacheStatus.CACHE_STATUS_STALE) tally.stale += 1;
            seen[v].add(key);
          } catch (error) {
            tally.failed += 1;
            if (seen[v].has(key) && (error as ServiceError).code === status.UNAVAILABLE)
              tally.failedCached += 1;
          }
        }
      }),
    ),
  );
}

export function report(variants: Variant[], columns: Array<keyof Window>) {
  for (const variant of variants) {
    console.log(`\n${variant.name}`);
    console.table(
      variant.windows.map((w, i) => ({
        window: `${(i * WINDOW_MS) / 1000}-${((i + 1) * WINDOW_MS) / 1000} s`,
        ...Object.fromEntries(columns.map((c) => [c, w[c] as number])),
        'p99 ms': (w.latency.getValueAtPercentile(99) / 1000).toFixed(2),
        'max ms': (w.latency.maxValue / 1000).toFixed(2),
      })),
    );
  }
}
