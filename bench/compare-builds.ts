/**
 * Builds side by side on one embedded stack (npm run bench -- --scenario builds --build
 * label=<checkout>[:<node binary>] ...): near-cache hits, Redis hits, misses and uncached reads at
 * c16 and c64, then RunBenchmark; rounds alternate the builds; medians and ratios to the first.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mongoose from 'mongoose';
import { projectRoot } from '../src/common/paths';
import { importMovies } from '../src/movies/import/movie-import';
import { seedIfEmpty } from '../src/movies/import/seed-bundled';
import { syntheticId, syntheticMovies } from '../src/movies/import/synthetic-movies';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { ghz, percentile } from './ghz';
import { median } from './hits';
import { hotCacheEnv, startService, THIS_BUILD, type Build, type RunningService } from './service';

const SYNTHETIC_SEED = 77;
const CONCURRENCIES = [16, 64];
const TARGETS = ['near hit', 'redis hit', 'miss', 'uncached'] as const;

export interface NamedBuild extends Build {
  label: string;
}

/** One measured point: a ghz run (latencies) or a RunBenchmark run (its total time). */
interface Point {
  rps: number;
  p50Ms?: number;
  p99Ms?: number;
  seconds?: number;
  errors: number;
}

export function parseBuild(spec: string): NamedBuild {
  const [label, rest] = spec.split('=');
  if (!label || !rest) throw new Error(`--build takes label=dir[:node], not ${spec}`);
  const [dir, node] = rest.split(':');
  return { label, root: resolve(dir), node: node ? resolve(node) : THIS_BUILD.node };
}

function writeIds(dir: string, name: string, ids: string[]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(ids.map((id) => ({ id }))));
  return file;
}

export async function compareBuilds(
  builds: NamedBuild[],
  options: { rounds: number; seconds: number; misses: number },
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-builds-'));
  const stack = await startEmbeddedStack({ dataDir, redis: true, mongo: true });
  const services: RunningService[] = [];
  try {
    const missSlices = builds.length * options.rounds * CONCURRENCIES.length;
    const connection = await mongoose.createConnection(stack.mongoUri!).asPromise();
    await seedIfEmpty(connection);
    const collection = connection.collection(MOVIES_COLLECTION);
    await importMovies(collection, syntheticMovies(missSlices * options.misses, SYNTHETIC_SEED));
    const hot = (
      await collection
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(100)
        .toArray()
    ).map((row) => String(row._id));
    await connection.close();
    const hotFile = writeIds(dataDir, 'hot', hot);

    const env = (db: number, extra: Record<string, string>) =>
      hotCacheEnv(stack, { REDIS_URL: `${stack.redisUrl}/${db}`, ...extra });
    const fleet = [];
    for (const [i, build] of builds.entries()) {
      const near = await startService(env(i + 1, { NEAR_CACHE: 'on' }), build);
      const redis = await startService(env(i + 1, { NEAR_CACHE: 'off' }), build);
      const uncached = await startService(env(i + 1, { CACHE_ENABLED: 'false' }), build);
      services.push(near, redis, uncached);
      for (const id of hot) {
        await near.api.getMovie({ id });
        await redis.api.getMovie({ id });
      }
      fleet.push({ build, near, redis, uncached });
    }

    // Unmeasured: JIT warm-up of every build, and time for the storage to settle after the import.
    for (const { near, uncached } of fleet) {
      for (const service of [near, uncached]) await ghz(service.address, 16, 3, hotFile);
    }

    const points = new Map<string, Point[]>();
    const record = (key: string, point: Point) =>
      points.set(key, [...(points.get(key) ?? []), point]);
    let slice = 0;
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? fleet : [...fleet].reverse();
      for (const { build, near, redis, uncached } of order) {
        for (const c of CONCURRENCIES) {
          const missIds = Array.from({ length: options.misses }, (_, k) =>
            syntheticId(SYNTHETIC_SEED, slice * options.misses + k).toHexString(),
          );
          slice += 1;
          const measure = async (
            target: (typeof TARGETS)[number],
            service: RunningService,
            length: Parameters<typeof ghz>[2],
            dataFile: string,
          ) => {
            const report = await ghz(service.address, c, length, dataFile);
            const point = {
              rps: report.rps,
              p50Ms: percentile(report, 50),
              p99Ms: percentile(report, 99),
              errors: report.count - (report.statusCodeDistribution?.OK ?? 0),
            };
            record(`${build.label}|${target} c${c}`, point);
            console.log(
              `round ${round + 1} ${build.label} ${target} c${c}: ${point.rps.toFixed(0)} req/s, p50 ${point.p50Ms.toFixed(2)} ms, p99 ${point.p99Ms.toFixed(2)} ms, errors ${point.errors}`,
            );
          };
          await measure('near hit', near, options.seconds, hotFile);
          await measure('redis hit', redis, options.seconds, hotFile);
          const missFile = writeIds(dataDir, `miss-${slice}`, missIds);
          await measure('miss', near, { requests: options.misses }, missFile);
          await measure('uncached', uncached, options.seconds, hotFile);
        }
        const report = await near.api.runBenchmark(
          { requests: 100_000, concurrency: 32, keySpace: 1_000, seed: 42 },
          undefined,
          { deadline: Date.now() + 180_000 },
        );
        record(`${build.label}|RunBenchmark 100k`, {
          rps: report.throughputRps,
          seconds: report.durationMs / 1000,
          errors: report.errors,
        });
        console.log(
          `round ${round + 1} ${build.label} RunBenchmark 100k over 1,000 keys: ${(report.durationMs / 1000).toFixed(1)} s, ${report.throughputRps.toFixed(0)} req/s, errors ${report.errors}`,
        );
      }
    }

    const scenarios = [
      ...CONCURRENCIES.flatMap((c) => TARGETS.map((t) => `${t} c${c}`)),
      'RunBenchmark 100k',
    ];
    const first = builds[0].label;
    const rows = scenarios.map((scenario) => {
      const row: Record<string, string> = { scenario };
      const base = points.get(`${first}|${scenario}`) ?? [];
      for (const { label } of builds) {
        const got = points.get(`${label}|${scenario}`) ?? [];
        const rps = median(got.map((p) => p.rps));
        row[`${label} req/s`] = rps.toFixed(0);
        row[`${label} p99 ms`] = got[0]?.seconds
          ? `${median(got.map((p) => p.seconds!)).toFixed(1)} s`
          : median(got.map((p) => p.p99Ms!)).toFixed(2);
        if (label !== first)
          row[`${label}/${first}`] = (rps / median(base.map((p) => p.rps))).toFixed(2);
      }
      return row;
    });
    console.log(
      `\nmedians of ${options.rounds} rounds (RunBenchmark: total time in the p99 column)`,
    );
    console.table(rows);
    const results = join(projectRoot(), 'bench/results');
    mkdirSync(results, { recursive: true });
    writeFileSync(
      join(results, 'builds.json'),
      JSON.stringify(
        {
          measuredAt: new Date().toISOString(),
          builds: builds.map(({ label, root, node }) => ({ label, root, node })),
          options,
          medians: rows,
          points: Object.fromEntries(points),
        },
        null,
        2,
      ) + '\n',
    );
    console.log('wrote bench/results/builds.json');
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await stack.stop();
  }
}
