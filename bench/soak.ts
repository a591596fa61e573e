/**
 * Soak: 60 s of mixed load against the built server with a Redis restart in the middle.
 * Reads (80/20 skew over 100 movies), rating writes, 50 open trending streams, evictions (copies
 * and fences deleted from Redis, a near-cache of 50 movies). Prints failed calls, stale reads (a
 * read that started after a write was acknowledged but saw an older revision), at the end compares
 * MongoDB with the cache for every touched movie, and, once the last horizon has passed, the
 * consistency checker's nines (CONSISTENCY_* from the environment reach the service).
 * Usage: npm run soak -- [--seconds 60]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import mongoose from 'mongoose';
import { CachedCopy } from '../src/movies/cache/cached-copy';
import { fenceKey, movieKey } from '../src/redis/cache-keys';
import { CacheStatus } from '../src/generated/client/movies/v1/movie_service';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startFerretDb, startRedisServer } from '../src/stack/embedded-stack';
import { sleep } from '../src/common/sleep';
import { startService } from './service';

async function main() {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
  const seconds = Number(values.seconds);
  const dataDir = mkdtempSync(join(tmpdir(), 'soak-'));
  let redis = await startRedisServer(dataDir);
  const ferret = await startFerretDb(dataDir);
  const mongoUri = `mongodb://127.0.0.1:${ferret.port}/sample_mflix`;
  const service = await startService({
    MONGODB_URI: mongoUri,
    REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    CACHE_TTL_SECONDS: '10',
    NEAR_CACHE_MAX_ENTRIES: '50', // half the movies read: the near-cache evicts
    TRENDING_MAX_STREAMS_PER_PEER: '64', // its 50 streams come from one client
  });
  const api = service.api;
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  try {
    const movies = connection.collection(MOVIES_COLLECTION);
    const ids = (
      await movies
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(100)
        .toArray()
    ).map((d) => String(d._id));
    const hot = ids.slice(0, 20);
    const pick = () =>
      Math.random() < 0.8
        ? hot[Math.floor(Math.random() * hot.length)]
        : ids[Math.floor(Math.random() * ids.length)];
    const acked = new Map<string, Array<{ at: number; revision: number }>>();
    const touched = new Set<string>();
    const tally = {
      reads: 0,
      failedReads: 0,
      writes: 0,
      failedWrites: 0,
      staleReads: 0,
      bypasses: 0,
      snapshots: 0,
      streamErrors: 0,
    };
    const failures = new Map<string, number>();
    const fail = (kind: string, error: unknown) => {
      const key = `${kind}: ${(error as { details?: string; message?: string }).details ?? (error as Error).message}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    };

    const streams = Array.from({ length: 50 }, (_, i) => {
      const call = api.streamTrending({
        limit: 10,
        windowSeconds: i % 2 ? 60 : 0,
        intervalMs: 500,
      });
      call.on('data', () => (tally.snapshots += 1));
      call.on('error', (error: { code?: number }) => {
        if (error.code !== 1) tally.streamErrors += 1;
      });
      return call;
    });

    const deadline = Date.now() + seconds * 1000;
    const reader = async () => {
      while (Date.now() < deadline) {
        const id = pick();
        const started = performance.now();
        try {
          const { movie, cacheStatus } = await api.getMovie({ id });
          tally.reads += 1;
          if (cacheStatus === CacheStatus.CACHE_STATUS_BYPASS) tally.bypasses += 1;
          const floor = Math.max(
            -1,
            ...(acked.get(id) ?? []).filter((a) => a.at <= started).map((a) => a.revision),
          );
          if (movie!.revision < floor) tally.staleReads += 1;
        } catch (error) {
          tally.failedReads += 1;
          fail('read', error);
        }
      }
    };
    const writer = async () => {
      while (Date.now() < deadline) {
        const id = pick();
        try {
          const { movie } = await api.updateRating({
            id,
            rating: Math.round(Math.random() * 100) / 10,
          });
          const list = acked.get(id) ?? [];
          list.push({ at: performance.now(), revision: movie!.revision });
          acked.set(id, list);
          touched.add(id);
          tally.writes += 1;
        } catch (error) {
          tally.failedWrites += 1;
          fail('write', error);
        }
        await sleep(40);
      }
    };
    const chaos = (async () => {
      await sleep((seconds * 1000) / 2);
      console.log(`t+${seconds / 2}s: stopping redis-server`);
      const redisPort = redis.port;
      await redis.stop();
      await sleep(3_000);
      redis = await startRedisServer(dataDir, redisPort);
      console.log(`t+${seconds / 2 + 3}s: redis-server restarted (empty: no persistence)`);
    })();
    // Evictions behind the service's back, as allkeys-lru would: 2 copies and a fence every 100 ms.
    const evictor = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    evictor.on('error', () => undefined);
    let evicted = 0;
    const evictions = (async () => {
      while (Date.now() < deadline) {
        const keys = [movieKey(pick()), movieKey(pick()), fenceKey(pick())];
        evicted += await evictor.del(...keys).catch(() => 0);
        await sleep(100);
      }
    })();
    await Promise.all([...Array.from({ length: 8 }, reader), writer(), writer(), chaos, evictions]);
    evictor.disconnect();
    streams.forEach((s) => s.cancel());
    await sleep(1_500);

    // Every touched movie: a cached copy, if any, must match MongoDB.
    const inspect = new Redis(redis.port, '127.0.0.1');
    let compared = 0;
    let mismatches = 0;
    for (const id of touched) {
      const value = await inspect.getBuffer(movieKey(id));
      const cached = value && CachedCopy.of(value)?.movie();
      if (!cached) continue;
      compared += 1;
      const stored = await movies.findOne({ _id: new mongoose.Types.ObjectId(id) });
      if (
        Number(cached.revision) !== stored?.revision ||
        Number(cached.rating) !== stored?.imdb?.rating
      )
        mismatches += 1;
    }
    inspect.disconnect();

    console.log(
      `\nsoak: ${seconds} s, 8 readers (80/20 over 100 movies), 2 writers, 50 trending streams, Redis restarted at ${seconds / 2} s`,
    );
    console.table({
      reads: tally.reads,
      'failed reads (target 0)': tally.failedReads,
      'reads served as BYPASS': tally.bypasses,
      writes: tally.writes,
      'failed writes': tally.failedWrites,
      'stale reads (target 0)': tally.staleReads,
      'trending snapshots': tally.snapshots,
      'stream errors': tally.streamErrors,
      'touched movies cached at the end': compared,
      'cache/MongoDB mismatches (target 0)': mismatches,
      'keys evicted': evicted,
    });
    for (const [failure, count] of failures) console.log(`  ${count} x ${failure}`);

    // Every sample checked at its last horizon, then the checker's counts.
    const last = (await api.getCacheStats()).consistency!.horizons.at(-1)?.seconds ?? 0;
    console.log(`\nwaiting ${last + 1} s for the consistency checker's last horizon`);
    await sleep((last + 1) * 1000);
    const consistency = (await api.getCacheStats()).consistency!;
    console.log(
      `consistency checker: ${consistency.samples} hits sampled (rate ${consistency.sampleRate}), ` +
        `${consistency.dropped} past the cap, ${consistency.heals} healed`,
    );
    console.table(
      Object.fromEntries(
        consistency.horizons.map((h) => [
          `${h.seconds} s`,
          {
            checks: h.checks,
            'inconsistent (target 0)': h.inconsistent,
            undecided: h.undecided,
            skipped: h.skipped,
            nines: Number(h.nines.toFixed(2)),
          },
        ]),
      ),
    );
    const inconsistent = consistency.horizons.reduce((sum, h) => sum + h.inconsistent, 0);
    process.exitCode =
      tally.failedReads === 0 && tally.staleReads === 0 && mismatches === 0 && inconsistent === 0
        ? 0
        : 1;
  } finally {
    await connection.close();
    await service.stop();
    await redis.stop();
    await ferret.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
