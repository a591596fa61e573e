/**
 * npm run bench -- --scenario ttl|outage: hot keys across their expiry, and a MongoDB outage.
 *   ttl:    Zipf over the bundled movies, CACHE_TTL_SECONDS=10, refresh-ahead off, `fraction` (0.1) and
 *           `xfetch` (beta 100) on three services at once under the same load for --seconds (120): misses
 *           seen by callers (all, and on the 20 hottest keys after the first window), p99 and max
 *           latency per 10 s window, MongoDB reads.
 *   outage: the same load on two services, grace on and off; after 20 s MongoDB is stopped for
 *           30 s: failed reads, and failed reads of movies cached before the outage.
 */
import mongoose from 'mongoose';
import { sleep } from '../src/common/sleep';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startFerretDb, startRedisServer } from '../src/stack/embedded-stack';
import { freePort } from '../src/stack/free-port';
import { startService } from './service';
import { drive, mongoReads, report, type Variant } from './expiry-drive';

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
