/**
 * npm run bench -- --scenario costs [--calls 200]: what one GetMovie costs the service, by kind
 * (a miss, a Redis hit, a near-cache hit; by id and by title), one call at a time: server CPU,
 * the Redis commands the service sent (MONITOR, without the commands scripts run inside Redis),
 * which ones, and the MongoDB reads it made, per call. The batched writes the calls cause (views,
 * counters) are waited for and counted; so are the coherence pings of the window.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import mongoose from 'mongoose';
import { sleep } from '../src/common/sleep';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { cpuSeconds, hotCacheEnv, startService, type RunningService } from './service';

type Lookup = { id: string } | { title: string; year: number };

/** The service's VIEW_FLUSH_MS default: views and counters are written this often. */
const VIEW_FLUSH_MS = 100;

/** The commands clients send to Redis (not those scripts run inside it), by name. */
async function watchCommands(url: string) {
  const client = new Redis(url);
  const monitor = await client.monitor();
  let seen = new Map<string, number>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    const name = args[0].toLowerCase();
    seen.set(name, (seen.get(name) ?? 0) + 1);
  });
  return {
    take(): Map<string, number> {
      const taken = seen;
      seen = new Map();
      return taken;
    },
    stop: () => {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

async function mongoFinds(db: mongoose.Connection): Promise<number> {
  const status = await db.db!.admin().command({ serverStatus: 1 });
  const commands = status.metrics?.commands ?? {};
  return ['find', 'findAndModify', 'aggregate'].reduce(
    (sum, name) => sum + Number(commands[name]?.total ?? 0),
    0,
  );
}

export async function costsScenario(options: { calls: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-costs-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const redis = new Redis(stack.redisUrl!);
  const watched = await watchCommands(stack.redisUrl!);
  const services: RunningService[] = [];
  const rows: Array<Record<string, string | number>> = [];
  let db: mongoose.Connection | undefined;
  try {
    const env = (near: string) => hotCacheEnv(stack, { NEAR_CACHE: near, REFRESH_AHEAD: 'off' });
    const near = await startService(env('on'));
    services.push(near);
    const redisOnly = await startService(env('off'));
    services.push(redisOnly);
    db = await mongoose.createConnection(stack.mongoUri!).asPromise();
    const movies = await db
      .collection(MOVIES_COLLECTION)
      .find({}, { projection: { _id: 1, title: 1, year: 1 } })
      .limit(options.calls)
      .toArray();
    const byId: Lookup[] = movies.map((m) => ({ id: String(m._id) }));
    const byTitle: Lookup[] = movies
      .filter((m) => typeof m.year === 'number')
      .map((m) => ({ title: m.title as string, year: m.year as number }));
    await redis.flushdb();

    const measure = async (kind: string, service: RunningService, lookups: Lookup[]) => {
      const [cpu, finds] = [cpuSeconds(service.pid), await mongoFinds(db!)];
      watched.take();
      for (const lookup of lookups) await service.api.getMovie(lookup);
      await sleep(VIEW_FLUSH_MS * 3); // the views and counters these calls caused are written
      const commands = watched.take();
      const [cpuAfter, findsAfter] = [cpuSeconds(service.pid), await mongoFinds(db!)];
      const n = lookups.length;
      const perCall = (count: number) => Number((count / n).toFixed(2));
      const total = [...commands.values()].reduce((sum, count) => sum + count, 0);
      rows.push({
        kind,
        calls: n,
        'server CPU µs/call': Math.round(((cpuAfter - cpu) * 1e6) / n),
        'MongoDB reads/call': perCall(findsAfter - finds),
        'Redis commands/call': perCall(total),
        'by command (per call)': [...commands]
          .sort((a, b) => b[1] - a[1])
          .map(([name, count]) => `${name} ${perCall(count)}`)
          .join(', '),
      });
    };

    // The near-cache-off instance: its first pass misses, its second hits Redis.
    await measure('miss by id', redisOnly, byId);
    await measure('Redis hit by id', redisOnly, byId);
    await measure('miss by title', redisOnly, byTitle);
    await measure('Redis hit by title', redisOnly, byTitle);
    // The near-cache instance: its first pass reads Redis and keeps the copies, then hits.
    await measure('Redis hit by id (near-cache on, keeps it)', near, byId);
    await measure('near-cache hit by id', near, byId);
    await measure('near-cache hit by title (after one Redis read)', near, byTitle);
    await measure('near-cache hit by title', near, byTitle);
  } finally {
    await db?.close();
    redis.disconnect();
    watched.stop();
    await Promise.all(services.map((service) => service.stop()));
    await stack.stop();
  }
  console.log('\nGetMovie one call at a time, per call (Redis: the commands the service sent)');
  console.table(rows);
}
