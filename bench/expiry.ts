/**
 * npm run bench -- --scenario ttl|outage: hot keys across their expiry, and a MongoDB outage.
 *   ttl:    Zipf over the bundled movies, CACHE_TTL_SECONDS=10, refresh-ahead off, `fraction` (0.1) and
 *           `xfetch` (beta 100) on three services at once under the same load for --seconds (120): misses
 *           seen by callers (all, and on the 20 hottest keys after the first window), p99 and max
 *           latency per 10 s window, MongoDB reads.
 *   outage: the same load on two services, grace on and off; after 20 s MongoDB is stopped for
 *           30 s: failed reads, and failed reads of movies cached before the outage.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { build } from 'hdr-histogram-js';
import mongoose from 'mongoose';
import { requestSequence } from '../src/benchmark/workload';
import { sleep } from '../src/common/sleep';
import { CacheStatus, Distribution } from '../src/generated/client/movies/v1/movie_service';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startFerretDb, startRedisServer } from '../src/stack/embedded-stack';
import { freePort } from '../src/stack/free-port';
import { startService, type RunningService } from './service';

const WINDOW_MS = 10_000;
const WORKERS = 8;
/** The hottest keys: under Zipf(1) over 1,000 movies, each read several times a second here. */
const HOT_KEYS = 20;

interface Window {
  reads: number;
  misses: number;
  hotMisses: number;
  failed: number;
  failedCached: number;
  stale: number;
  latency: ReturnType<typeof build>;
}

interface Variant {
  name: string;
  env: Record<string, string>;
  service?: RunningService;
  windows: Window[];
  metricsPort: number;
}

const newWindow = (): Window => ({
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
async function mongoReads(port: number): Promise<number> {
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
async function drive(variants: Variant[], ids: string[], started: number, stop: Promise<void>) {
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

function report(variants: Variant[], columns: Array<keyof Window>) {
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

export async function expiryScenario(scenario: 'ttl' | 'outage', seconds: number, dataDir: string) {
  const redis = await startRedisServer(dataDir);
  const mongoPort = await freePort();
  let mongo = await startFerretDb(dataDir, mongoPort);
  const mongoUri = `mongodb://127.0.0.1:${mongoPort}/sample_mflix`;
  const base = {
    MONGODB_URI: mongoUri,
    CACHE_TTL_SECONDS: '10',
    MONGO_TIMEOUT_MS: '1000',
    NEAR_CACHE: 'on',
  };
  const variants: Variant[] =
    scenario === 'ttl'
      ? [
          { name: 'refresh-ahead off', env: { REFRESH_AHEAD: 'off' }, windows: [], metricsPort: 0 },
          {
            name: 'refresh-ahead fraction (0.1)',
            env: { REFRESH_AHEAD: 'fraction' },
            windows: [],
            metricsPort: 0,
          },
          {
            name: 'refresh-ahead xfetch (beta 100)',
            env: { REFRESH_AHEAD: 'xfetch', REFRESH_AHEAD_BETA: '100' },
            windows: [],
            metricsPort: 0,
          },
        ]
      : [
          {
            name: 'grace off',
            env: { CACHE_GRACE_SECONDS: '0', REFRESH_AHEAD: 'off' },
            windows: [],
            metricsPort: 0,
          },
          {
            name: 'grace 300 s',
            env: { CACHE_GRACE_SECONDS: '300', REFRESH_AHEAD: 'off' },
            windows: [],
            metricsPort: 0,
          },
        ];
  try {
    for (const [i, variant] of variants.entries()) {
      variant.metricsPort = await freePort();
      variant.service = await startService({
        ...base,
        ...variant.env,
        REDIS_URL: `redis://127.0.0.1:${redis.port}/${i + 1}`,
        METRICS_PORT: String(variant.metricsPort),
      });
    }
    const connection = await mongoose.createConnection(mongoUri).asPromise();
    const ids = (
      await connection
        .collection(MOVIES_COLLECTION)
        .find({}, { projection: { _id: 1 } })
        .toArray()
    )
      .map((r) => String(r._id))
      .sort();
    await connection.close();
    const readsBefore = await Promise.all(variants.map((v) => mongoReads(v.metricsPort)));
    const started = Date.now();
    const duration = scenario === 'ttl' ? seconds * 1000 : 60_000;
    const stop = sleep(duration);
    const outage = (async () => {
      if (scenario !== 'outage') return;
      await sleep(20_000);
      console.log('stopping MongoDB for 30 s');
      await mongo.stop();
      await sleep(30_000);
      mongo = await startFerretDb(dataDir, mongoPort);
      console.log('MongoDB back');
    })();
    await Promise.all([drive(variants, ids, started, stop), outage]);
    const readsAfter = await Promise.all(
      variants.map((v) => mongoReads(v.metricsPort).catch(() => NaN)),
    );
    report(
      variants,
      scenario === 'ttl'
        ? ['reads', 'misses', 'hotMisses']
        : ['reads', 'stale', 'failed', 'failedCached'],
    );
    console.table(
      variants.map((v, i) => ({
        variant: v.name,
        reads: v.windows.reduce((n, w) => n + w.reads, 0),
        'misses seen': v.windows.reduce((n, w) => n + w.misses, 0),
        'hot-key misses after 10 s': v.windows.reduce((n, w) => n + w.hotMisses, 0),
        stale: v.windows.reduce((n, w) => n + w.stale, 0),
        failed: v.windows.reduce((n, w) => n + w.failed, 0),
        'failed, movie cached before': v.windows.reduce((n, w) => n + w.failedCached, 0),
        'MongoDB reads': readsAfter[i] - readsBefore[i],
      })),
    );
  } finally {
    await Promise.all(variants.map((v) => v.service?.stop()));
    await mongo.stop();
    await redis.stop();
  }
}
