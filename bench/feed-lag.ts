/**
 * npm run bench -- --scenario feed-lag [--writes 500] [--concurrency 16]: how long a write made
 * straight to MongoDB (the driver, not the API) takes to reach every cache. Two instances on the
 * embedded stack, near-caches warm, under ghz GetMovie load; each write's time is from the
 * driver's acknowledgement until both instances answer the new value (polled every 2 ms). Then
 * what a flush costs (a rename of the collection), with the warm fences and with 100,000 more.
 * Writes bench/results/feed-lag.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import mongoose from 'mongoose';
import { build } from 'hdr-histogram-js';
import { projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';
import { CacheTier } from '../src/generated/nest/movies/v1/movie_service';
import type { MovieApi } from '../src/grpc/movie-api';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { fenceKey } from '../src/redis/cache-keys';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { ghz } from './ghz';
import { hotCacheEnv, startService, type RunningService } from './service';

const POLL_MS = 2;
const SEEDED_FENCES = 100_000;
const RESULTS_FILE = join(projectRoot(), 'bench/results/feed-lag.json');

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
    const lagsMs: number[] = [];
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
      const elapsedMs = performance.now() - acknowledged;
      lag.recordValue(Math.round(elapsedMs * 1000));
      lagsMs.push(Math.round(elapsedMs * 100) / 100);
      if (loaded) underLoad += 1;
    }
    const reports = await load;
    const stats = await services[0].api.getCacheStats();
    const ms = (us: number) => (us / 1000).toFixed(1);
    const rps = reports.map((r) => Math.round(r.rps)).join(' + ');
    console.log(
      `feed lag over ${ids.length} direct writes (${underLoad} under load), 2 instances under ghz c${options.concurrency} each at ${rps} GetMovie/s (${stats.changeFeed?.source}):`,
    );
    const summary = {
      p50: ms(lag.getValueAtPercentile(50)),
      p99: ms(lag.getValueAtPercentile(99)),
      max: ms(lag.maxValue),
    };
    console.log(`  p50 ${summary.p50} ms  p99 ${summary.p99} ms  max ${summary.max} ms`);

    const redis = new Redis(stack.redisUrl!);
    const flushes = [];
    try {
      flushes.push(await timeFlush(db, services, redis));
      await seedFences(redis, SEEDED_FENCES);
      flushes.push(await timeFlush(db, services, redis));
    } finally {
      redis.disconnect();
    }
    for (const f of flushes)
      console.log(
        `  a flush over ${f.fences} fence keys: ${f.ms.map((m) => m.toFixed(0)).join(' and ')} ms`,
      );
    writeFileSync(
      RESULTS_FILE,
      `${JSON.stringify({ date: new Date().toISOString(), writes: ids.length, underLoad, rps, lag: summary, flushes, lagsMs }, null, 1)}\n`,
    );
    console.log(`  written to ${RESULTS_FILE}`);
  } finally {
    await db?.close();
    for (const service of services) await service.stop();
    await stack.stop();
  }
}

/** Fences as writes leave them, for ids nothing caches: what a large catalogue's flush walks. */
async function seedFences(redis: Redis, count: number): Promise<void> {
  for (let done = 0; done < count; done += 10_000) {
    const pipeline = redis.pipeline();
    for (let i = done; i < Math.min(count, done + 10_000); i += 1)
      pipeline.set(fenceKey(randomBytes(12).toString('hex')), 'bench:1', 'EX', 3600);
    await pipeline.exec();
  }
}

/**
 * A rename of the collection away and back: two flushes, each timed from the driver's
 * acknowledgement until the leader counts it (the feed's lag included).
 */
async function timeFlush(db: mongoose.Connection, services: RunningService[], redis: Redis) {
  const fences = (await redis.keys('fence:*')).length;
  const leader = await leaderOf(services);
  const ms: number[] = [];
  for (const [from, to] of [
    [MOVIES_COLLECTION, `${MOVIES_COLLECTION}_away`],
    [`${MOVIES_COLLECTION}_away`, MOVIES_COLLECTION],
  ]) {
    const before = (await leader.api.getCacheStats()).changeFeed?.flushes ?? 0;
    await db.db!.renameCollection(from, to);
    const renamed = performance.now();
    while (((await leader.api.getCacheStats()).changeFeed?.flushes ?? 0) <= before)
      await sleep(POLL_MS);
    ms.push(performance.now() - renamed);
  }
  return { fences, ms };
}

async function leaderOf(services: RunningService[]): Promise<RunningService> {
  for (;;) {
    for (const service of services)
      if ((await service.api.getCacheStats()).changeFeed?.leader) return service;
    await sleep(POLL_MS);
  }
}
