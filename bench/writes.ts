/**
 * UpdateRating alone (npm run bench -- --scenario writes [--rounds 4] [--seconds 8] [--rate 40]
 * [--build label=<checkout>[:node] ...]): writes at a fixed rate (open loop, spread over the
 * instances) with 1 and 3 instances, each instance also read at a fixed rate on the written
 * movies; p50/p99 of the writes, and MongoDB reads (misses) per write. Beside them, in the same
 * rounds, the write's floor: one MongoDB update, one Redis round trip and the slowest of N
 * subscribers' acks over pub/sub, each timed alone. Rounds alternate builds and fleet sizes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import mongoose from 'mongoose';
import { LatencyRecorder } from '../src/benchmark/latency-recorder';
import { sleep } from '../src/common/sleep';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { seedIfEmpty } from '../src/movies/import/seed-bundled';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { median } from './hits';
import { hotCacheEnv, startService, THIS_BUILD, type RunningService } from './service';
import type { NamedBuild } from './compare-builds';

const FLEETS = [1, 3];
const READS_PER_INSTANCE = 200;
const MOVIES = 50;

interface WriteRun {
  build: string;
  instances: number;
  writes: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** MongoDB reads the readers caused (misses on every instance), per write. */
  missesPerWrite: number;
  readsPerSecond: number;
}

interface FloorRun {
  instances: number;
  mongoUpdateP50Ms: number;
  redisRttP50Ms: number;
  ackP50Ms: number;
  floorP50Ms: number;
  floorP99Ms: number;
}

export type WriteRow = Record<string, string | number>;

export interface WritesOptions {
  rounds: number;
  seconds: number;
  rate: number;
  builds: NamedBuild[];
}

export async function writesScenario(options: WritesOptions): Promise<WriteRow[]> {
  const builds = options.builds.length ? options.builds : [{ ...THIS_BUILD, label: 'this' }];
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-writes-')),
    redis: true,
    mongo: true,
  });
  const connection = await mongoose.createConnection(stack.mongoUri!).asPromise();
  try {
    await seedIfEmpty(connection);
    const collection = connection.collection(MOVIES_COLLECTION);
    const ids = (
      await collection
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(MOVIES)
        .toArray()
    ).map((row) => String(row._id));
    const runs: WriteRun[] = [];
    const floors: FloorRun[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const instances of round % 2 === 0 ? FLEETS : [...FLEETS].reverse()) {
        floors.push(await floor(collection, stack.redisUrl!, ids, instances, options));
        for (const [i, build] of order.entries()) {
          // Each build on a Redis database of its own, in case their formats differ.
          const env = hotCacheEnv(stack, { REDIS_URL: `${stack.redisUrl}/${i + 1}` });
          const fleet: RunningService[] = [];
          // The floor wrote behind the cache's back: every run starts from an empty cache.
          await flush(stack.redisUrl!);
          try {
            for (let n = 0; n < instances; n += 1) fleet.push(await startService(env, build));
            runs.push({
              build: build.label,
              ...(await measureWrites(fleet, ids, options)),
            });
          } finally {
            await Promise.all(fleet.map((service) => service.stop()));
          }
        }
      }
    }
    return report(builds, runs, floors, options);
  } finally {
    await connection.close();
    await stack.stop();
  }
}

async function measureWrites(
  fleet: RunningService[],
  ids: string[],
  options: WritesOptions,
): Promise<Omit<WriteRun, 'build'>> {
  for (const service of fleet) for (const id of ids) await service.api.getMovie({ id });
  const missesBefore = await totalMisses(fleet);
  const latencies = new LatencyRecorder();
  let errors = 0;
  let reads = 0;
  const deadline = performance.now() + options.seconds * 1000;
  const readers = fleet.map((service) =>
    openLoop(READS_PER_INSTANCE, deadline, (i) =>
      service.api.getMovie({ id: ids[(i * 7) % ids.length] }).then(
        () => void (reads += 1),
        () => undefined,
      ),
    ),
  );
  const writes = openLoop(options.rate, deadline, (i) => {
    const sent = performance.now();
    return fleet[i % fleet.length].api
      .updateRating({ id: ids[i % ids.length], rating: (i % 100) / 10 })
      .then(
        () => latencies.recordMs(performance.now() - sent),
        () => void (errors += 1),
      );
  });
  await Promise.all([writes, ...readers]);
  const stats = latencies.stats();
  const misses = (await totalMisses(fleet)) - missesBefore;
  return {
    instances: fleet.length,
    writes: stats.count,
    errors,
    p50Ms: stats.p50Ms,
    p99Ms: stats.p99Ms,
    missesPerWrite: stats.count ? misses / stats.count : 0,
    readsPerSecond: reads / options.seconds,
  };
}

/** Calls `send` `rate` times a second until `deadline`, whether or not earlier calls answered. */
async function openLoop(
  rate: number,
  deadline: number,
  send: (i: number) => Promise<void>,
): Promise<void> {
  const sent: Array<Promise<void>> = [];
  const started = performance.now();
  for (let i = 0; performance.now() < deadline; i += 1) {
    sent.push(send(i));
    await sleep(Math.max(0, started + ((i + 1) * 1000) / rate - performance.now()));
  }
  await Promise.all(sent);
}

async function flush(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}

async function totalMisses(fleet: RunningService[]): Promise<number> {
  const stats = await Promise.all(fleet.map((service) => service.api.getCacheStats()));
  return stats.reduce((sum, s) => sum + Number(s.misses), 0);
}

/**
 * The write's parts, each timed alone at the same rate: MongoDB's findOneAndUpdate (what the
 * repository sends), a Redis round trip, and a PUBLISH answered by each of N subscribers (the acks).
 */
async function floor(
  collection: mongoose.mongo.Collection,
  redisUrl: string,
  ids: string[],
  instances: number,
  options: WritesOptions,
): Promise<FloorRun> {
  const redis = new Redis(redisUrl);
  const subscribers = Array.from({ length: instances }, () => new Redis(redisUrl));
  const publishers = Array.from({ length: instances }, () => new Redis(redisUrl));
  const channel = 'bench:writes:ack';
  const acks = new Map<string, { left: number; done: () => void }>();
  const answers = new Redis(redisUrl);
  await answers.subscribe(`${channel}:back`);
  answers.on('message', (_channel: string, id: string) => {
    const pending = acks.get(id);
    if (pending && --pending.left === 0) pending.done();
  });
  await Promise.all(subscribers.map((s) => s.subscribe(channel)));
  subscribers.forEach((s, n) =>
    s.on(
      'message',
      (_channel: string, id: string) => void publishers[n].publish(`${channel}:back`, id),
    ),
  );
  const mongo = new LatencyRecorder();
  const rtt = new LatencyRecorder();
  const ack = new LatencyRecorder();
  const sum = new LatencyRecorder();
  try {
    const count = Math.max(20, Math.round((options.rate * options.seconds) / 2));
    for (let i = 0; i < count; i += 1) {
      const t0 = performance.now();
      await collection.findOneAndUpdate(
        { _id: new mongoose.Types.ObjectId(ids[i % ids.length]) },
        { $set: { 'imdb.rating': (i % 100) / 10 }, $inc: { revision: 1 } },
        { returnDocument: 'after' },
      );
      const t1 = performance.now();
      await redis.ping();
      const t2 = performance.now();
      await new Promise<void>((done) => {
        acks.set(String(i), { left: instances, done });
        void redis.publish(channel, String(i));
      });
      const t3 = performance.now();
      acks.delete(String(i));
      mongo.recordMs(t1 - t0);
      rtt.recordMs(t2 - t1);
      ack.recordMs(t3 - t2);
      sum.recordMs(t3 - t0);
      await sleep(Math.max(0, 1000 / options.rate - (t3 - t0)));
    }
  } finally {
    for (const client of [redis, answers, ...subscribers, ...publishers]) client.disconnect();
  }
  return {
    instances,
    mongoUpdateP50Ms: mongo.stats().p50Ms,
    redisRttP50Ms: rtt.stats().p50Ms,
    ackP50Ms: ack.stats().p50Ms,
    floorP50Ms: sum.stats().p50Ms,
    floorP99Ms: sum.stats().p99Ms,
  };
}

function report(
  builds: NamedBuild[],
  runs: WriteRun[],
  floors: FloorRun[],
  options: WritesOptions,
): WriteRow[] {
  const round = (n: number) => Number(n.toFixed(2));
  const rows: WriteRow[] = [];
  for (const instances of FLEETS) {
    const floorsOf = floors.filter((f) => f.instances === instances);
    const floorP50 = median(floorsOf.map((f) => f.floorP50Ms));
    rows.push({
      what: `floor (${instances} subscriber${instances > 1 ? 's' : ''})`,
      instances,
      'p50 ms': round(floorP50),
      'p99 ms': round(median(floorsOf.map((f) => f.floorP99Ms))),
      'MongoDB update p50': round(median(floorsOf.map((f) => f.mongoUpdateP50Ms))),
      'Redis RTT p50': round(median(floorsOf.map((f) => f.redisRttP50Ms))),
      'ack p50': round(median(floorsOf.map((f) => f.ackP50Ms))),
    });
    for (const build of builds.length ? builds : [{ label: 'this' }]) {
      const of = runs.filter((r) => r.build === build.label && r.instances === instances);
      const p50 = median(of.map((r) => r.p50Ms));
      rows.push({
        what: `UpdateRating, ${build.label}`,
        instances,
        'p50 ms': round(p50),
        'p99 ms': round(median(of.map((r) => r.p99Ms))),
        '× floor p50': round(p50 / floorP50),
        'MongoDB reads per write': round(median(of.map((r) => r.missesPerWrite))),
        'reads/s': Math.round(median(of.map((r) => r.readsPerSecond))),
        errors: of.reduce((s, r) => s + r.errors, 0),
      });
    }
  }
  console.log(
    `\nUpdateRating at ${options.rate}/s (open loop) for ${options.seconds} s, ${READS_PER_INSTANCE} reads/s per instance on the ${MOVIES} written movies; medians of ${options.rounds} rounds`,
  );
  console.table(rows);
  return rows;
}
