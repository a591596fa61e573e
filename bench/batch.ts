/**
 * npm run bench -- --scenario batch [--seconds 6] [--rounds 4] [--concurrency 16] [--misses 3000]:
 * BatchGetMovies of 100 movies against 100 single GetMovie calls, side by side on one embedded
 * stack: every movie a near-cache hit, a Redis hit (NEAR_CACHE=off), a miss (movies never read
 * before: `--misses` of them per point), and the peer (a NestJS server answering a batch with one
 * MGET, a single call with one GET). Rounds alternate the order of the points; medians of movies
 * per second, p99 per call and server CPU per movie, and the ratios batch / single. Last, one call
 * at a time: what a page of 100 cold movies costs alone, as one batch or as 100 GetMovies.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { sleep } from '../src/common/sleep';
import { CacheTier } from '../src/generated/client/movies/v1/movie_service';
import { importMovies } from '../src/movies/import/movie-import';
import { seedIfEmpty } from '../src/movies/import/seed-bundled';
import { syntheticId, syntheticMovies } from '../src/movies/import/synthetic-movies';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { MovieApi } from '../src/grpc/movie-api';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz, percentile, sampleRss } from './ghz';
import { median, startComparisonServer, type Server } from './hits';
import { cpuSeconds, hotCacheEnv, startService, type RunningService } from './service';

const BATCH = 100;
const SYNTHETIC_SEED = 91;
/** Cold movies read one call at a time, after the rounds: as batches, and as single calls. */
const LONE_MISSES = 1_000;

interface Options {
  seconds: number;
  rounds: number;
  concurrency: number;
  misses: number;
  connections: number;
}

/** One ghz run: BatchGetMovies (100 movies a call) or GetMovie (one). */
interface Sample {
  moviesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerMovie: number;
  rssMb: number;
  errors: number;
}

type Method = 'BatchGetMovies' | 'GetMovie';

/** What a point reads: for a number of seconds (hits), or exactly these requests (misses). */
interface Workload {
  file: string;
  length: number | { requests: number };
}

async function run(
  server: Server,
  method: Method,
  workload: Workload,
  options: Options,
): Promise<Sample> {
  const perCall = method === 'BatchGetMovies' ? BATCH : 1;
  const cpuBefore = cpuSeconds(server.pid);
  const [report, rssMb] = await sampleRss(
    server.pid,
    ghz(
      server.address,
      options.concurrency,
      workload.length,
      workload.file,
      options.connections,
      method,
    ),
  );
  const ok = report.statusCodeDistribution?.OK ?? 0;
  return {
    moviesPerSecond: report.rps * perCall,
    p50Ms: percentile(report, 50),
    p99Ms: percentile(report, 99),
    cpuUsPerMovie: ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / Math.max(1, ok * perCall),
    rssMb,
    errors: report.count - ok,
  };
}

/** Reads the batch until every movie comes from `tier` (a near-cache keeps settled copies only). */
async function warm(api: MovieApi, ids: string[], tier: CacheTier): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { results } = await api.batchGetMovies({ lookups: ids.map((id) => ({ id })) });
    if (results.every((r) => r.found?.cacheTier === tier)) return;
    await sleep(200);
  }
  throw new Error(`the batch never came all from ${CacheTier[tier]}`);
}

export async function batchScenario(options: Options): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-batch-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const services: RunningService[] = [];
  let peer: (Server & { stop(): Promise<void> }) | undefined;
  try {
    // Movies never read before, enough for every miss point of every round.
    const connection = await mongoose.createConnection(stack.mongoUri!).asPromise();
    await seedIfEmpty(connection);
    const missesPerRound = 2 * options.misses;
    await importMovies(
      connection.collection(MOVIES_COLLECTION),
      syntheticMovies(options.rounds * missesPerRound + 2 * LONE_MISSES, SYNTHETIC_SEED),
    );
    await connection.close();

    const near = await startService(hotCacheEnv(stack, { NEAR_CACHE: 'on' }));
    services.push(near);
    const redis = await startService(hotCacheEnv(stack, { NEAR_CACHE: 'off' }));
    services.push(redis);
    peer = await startComparisonServer('peer', stack.redisUrl);

    const ids = await firstIds(stack.mongoUri!, BATCH);
    const write = (name: string, requests: unknown[]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(requests));
      return file;
    };
    const hot = {
      batch: write('hot-batch', [{ lookups: ids.map((id) => ({ id })) }]),
      single: write(
        'hot-single',
        ids.map((id) => ({ id })),
      ),
    };
    for (const server of [near, redis, peer])
      await ghz(server.address, 1, { requests: ids.length }, hot.single);
    await warm(near.api, ids, CacheTier.CACHE_TIER_LOCAL);
    await warm(redis.api, ids, CacheTier.CACHE_TIER_REDIS);

    let missed = 0;
    /** `count` movies never read: as batches of 100, or one per call. */
    const cold = (method: Method, count: number): Workload => {
      const fresh = Array.from({ length: count }, (_, k) =>
        syntheticId(SYNTHETIC_SEED, missed + k).toHexString(),
      );
      missed += count;
      if (method === 'GetMovie')
        return {
          file: write(
            `miss-${missed}`,
            fresh.map((id) => ({ id })),
          ),
          length: { requests: count },
        };
      const batches = Array.from({ length: count / BATCH }, (_, b) => ({
        lookups: fresh.slice(b * BATCH, (b + 1) * BATCH).map((id) => ({ id })),
      }));
      return { file: write(`miss-${missed}`, batches), length: { requests: batches.length } };
    };
    const hits = (method: Method): Workload => ({
      file: method === 'BatchGetMovies' ? hot.batch : hot.single,
      length: options.seconds,
    });

    const kinds = [
      { kind: 'near-cache hits', server: { ...near, name: 'near' }, workload: hits },
      { kind: 'Redis hits', server: { ...redis, name: 'redis' }, workload: hits },
      {
        kind: 'misses',
        server: { ...near, name: 'near' },
        workload: (method: Method) => cold(method, options.misses),
      },
      { kind: 'peer (MGET / GET)', server: peer, workload: hits },
    ];
    const points = kinds.flatMap((k) =>
      (['BatchGetMovies', 'GetMovie'] as const).map((method) => ({ ...k, method })),
    );
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < options.rounds; round += 1) {
      for (const point of round % 2 === 0 ? points : [...points].reverse()) {
        const sample = await run(point.server, point.method, point.workload(point.method), options);
        const key = `${point.kind}|${point.method}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.log(
          `round ${round + 1} ${point.kind} ${point.method}: ${sample.moviesPerSecond.toFixed(0)} movies/s, p99 ${sample.p99Ms.toFixed(2)} ms, ${sample.cpuUsPerMovie.toFixed(1)} µs CPU/movie, errors ${sample.errors}`,
        );
      }
    }

    const mid = (key: string, field: keyof Sample) =>
      median((samples.get(key) ?? []).map((s) => s[field]));
    const rows = kinds.map(({ kind }) => {
      const [batch, single] = [`${kind}|BatchGetMovies`, `${kind}|GetMovie`];
      return {
        movies: kind,
        'batch movies/s': Math.round(mid(batch, 'moviesPerSecond')),
        'single movies/s': Math.round(mid(single, 'moviesPerSecond')),
        'batch / single': Number(
          (mid(batch, 'moviesPerSecond') / mid(single, 'moviesPerSecond')).toFixed(2),
        ),
        'batch p99 ms': Number(mid(batch, 'p99Ms').toFixed(2)),
        'single p99 ms': Number(mid(single, 'p99Ms').toFixed(2)),
        'batch CPU µs/movie': Number(mid(batch, 'cpuUsPerMovie').toFixed(1)),
        'single CPU µs/movie': Number(mid(single, 'cpuUsPerMovie').toFixed(1)),
        'RSS max MB': Math.round(
          Math.max(
            ...[batch, single].flatMap((key) => (samples.get(key) ?? []).map((s) => s.rssMb)),
          ),
        ),
        errors: [batch, single]
          .flatMap((key) => samples.get(key) ?? [])
          .reduce((sum, s) => sum + s.errors, 0),
      };
    });
    const against = (a: string, b: string) => ({
      pair: `${a} / ${b}`,
      'movies/s': Number((mid(a, 'moviesPerSecond') / mid(b, 'moviesPerSecond')).toFixed(2)),
      p99: Number((mid(a, 'p99Ms') / mid(b, 'p99Ms')).toFixed(2)),
    });
    console.log(
      `\nmedians of ${options.rounds} rounds, c${options.concurrency}, ${options.connections} connections; a batch is ${BATCH} movies; misses: ${options.misses} movies never read per point`,
    );
    console.table(rows);
    console.table([
      against('near-cache hits|BatchGetMovies', 'peer (MGET / GET)|BatchGetMovies'),
      against('near-cache hits|BatchGetMovies', 'peer (MGET / GET)|GetMovie'),
      against('Redis hits|BatchGetMovies', 'peer (MGET / GET)|BatchGetMovies'),
    ]);

    const alone = { ...options, concurrency: 1, connections: 1 };
    const nearServer = { ...near, name: 'near' };
    const batch = await run(
      nearServer,
      'BatchGetMovies',
      cold('BatchGetMovies', LONE_MISSES),
      alone,
    );
    const single = await run(nearServer, 'GetMovie', cold('GetMovie', LONE_MISSES), alone);
    console.log(
      `one call at a time, ${LONE_MISSES} cold movies each way: a batch of ${BATCH} misses p50 ${batch.p50Ms.toFixed(1)} ms (p99 ${batch.p99Ms.toFixed(1)}), ${batch.moviesPerSecond.toFixed(0)} movies/s; a single GetMovie miss p50 ${single.p50Ms.toFixed(2)} ms (p99 ${single.p99Ms.toFixed(2)}), ${single.moviesPerSecond.toFixed(0)} movies/s`,
    );
  } finally {
    await peer?.stop();
    for (const service of services) await service.stop();
    await stack.stop();
  }
}
