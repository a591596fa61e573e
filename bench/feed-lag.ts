/**
 * npm run bench -- --scenario feed-lag [--writes 500] [--concurrency 16]: how long a write made
 * straight to MongoDB (the driver, not the API) takes to reach every cache. Two instances on the
 * embedded stack, near-caches warm, under ghz GetMovie load; each write's time is from the
 * driver's acknowledgement until both instances answer the new value (polled every 2 ms).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { build } from 'hdr-histogram-js';
import { sleep } from '../src/common/sleep';
import { CacheTier } from '../src/generated/nest/movies/v1/movie_service';
import type { MovieApi } from '../src/grpc/movie-api';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { ghz } from './ghz';
import { hotCacheEnv, startService, type RunningService } from './service';

const POLL_MS = 2;

async function waitForRating(api: MovieApi, id: string, rating: number): Promise<void> {
  while ((await api.getMovie({ id })).movie?.rating !== rating) await sleep(POLL_MS);
}

export async function feedLagScenario(options: { writes: number; concurrency: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-feed-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const services: RunningService[] = [];
  let db: mongoose.Connection | undefined;
  try {
    const env = hotCacheEnv(stack, { CHANGE_FEED_POSTGRES_URL: stack.postgresUrl! });
    for (let i = 0; i < 2; i += 1) services.push(await startService(env));
    db = await mongoose.createConnection(stack.mongoUri!).asPromise();
    const movies = db.collection(MOVIES_COLLECTION);
    const ids = (
      await movies
        .find({}, { projection: { _id: 1 } })
        .limit(options.writes)
        .toArray()
    ).map((m) => m._id);
    for (const service of services)
      for (const id of ids) {
        const hex = String(id);
        while ((await service.api.getMovie({ id: hex })).cacheTier !== CacheTier.CACHE_TIER_LOCAL)
          await sleep(POLL_MS);
      }
    const dataFile = join(dir, 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id: String(id) }))));

    // Long enough for the writes at ~100 ms each under load; any write after it is counted apart.
    const seconds = Math.ceil(options.writes * 0.12) + 5;
    let loaded = true;
    const load = Promise.all(
      services.map((s) => ghz(s.address, options.concurrency, seconds, dataFile)),
    ).finally(() => (loaded = false));
    await sleep(1_000);
    let underLoad = 0;
    const lag = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    for (const [i, id] of ids.entries()) {
      const rating = Math.round(10 * (1 + (i % 89) / 10)) / 10;
      await movies.updateOne({ _id: id }, { $set: { 'imdb.rating': rating } });
      const acknowledged = performance.now();
      await Promise.all(services.map((s) => waitForRating(s.api, String(id), rating)));
      lag.recordValue(Math.round((performance.now() - acknowledged) * 1000));
      if (loaded) underLoad += 1;
    }
    const reports = await load;
    const stats = await services[0].api.getCacheStats();
    const ms = (us: number) => (us / 1000).toFixed(1);
    const rps = reports.map((r) => Math.round(r.rps)).join(' + ');
    console.log(
      `feed lag over ${ids.length} direct writes (${underLoad} under load), 2 instances under ghz c${options.concurrency} each at ${rps} GetMovie/s (${stats.changeFeed?.source}):`,
    );
    console.log(
      `  p50 ${ms(lag.getValueAtPercentile(50))} ms  p99 ${ms(lag.getValueAtPercentile(99))} ms  max ${ms(lag.maxValue)} ms`,
    );
  } finally {
    await db?.close();
    for (const service of services) await service.stop();
    await stack.stop();
  }
}
