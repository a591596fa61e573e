import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import mongoose from 'mongoose';
import { projectRoot } from '../src/common/paths';
import { syntheticId } from '../src/movies/import/synthetic-movies';
import { loadConfig } from '../src/config/app-config';
import { MetricsService } from '../src/metrics/metrics.service';
import { MovieEntity, MovieSchema } from '../src/movies/movie.schema';
import { MoviesRepository } from '../src/movies/movies.repository';
import { startEmbeddedStack, type FerretDbBackend } from '../src/stack/embedded-stack';
import { SYNTHETIC_SEED, bundledMovies, fill } from './db-data';
import {
  OPERATIONS,
  plans,
  printTable,
  type Bundled,
  type Cell,
  type SizeResult,
} from './db-report';

const SLOW_MS = 200; // a backend this slow at concurrency 1 is not run at higher concurrency

const USAGE = `npm run bench:db -- [--backends postgresql,sqlite] [--sizes 1000,100000] [--million]
                       [--seconds 3] [--concurrency 1,16] [--data-dir <dir>] [--uri <mongodb uri>]
  The service's MoviesRepository (id, title + sort by votes, UpdateRating) against the embedded
  FerretDB, at each size: 1,000 bundled sample_mflix movies plus synthetic ones (seed 1).
  --backends     FerretDB backends, side by side (sqlite is measured up to 100,000 documents)
  --million      adds 1,000,000 documents (about 2 minutes of import on 2 cores, 3 GB of disk)
  --data-dir     keep the data there (<dir>/<backend>) and reuse it on the next run
  --uri          measure this server instead (e.g. a real MongoDB; its database is filled as above)`;

/** The service's own repository, so what is measured is the code that runs. */
function operations(repository: MoviesRepository, size: number, bundled: Bundled) {
  const randomId = () => {
    const i = Math.floor(Math.random() * size);
    return (
      i < bundled.ids.length ? bundled.ids[i] : syntheticId(SYNTHETIC_SEED, i - bundled.ids.length)
    ).toHexString();
  };
  return {
    id: () => repository.findById(randomId()),
    title: () => {
      const { title, year } = bundled.titles[Math.floor(Math.random() * bundled.titles.length)];
      return repository.findByTitle(
        title,
        year !== undefined && Math.random() < 0.5 ? year : undefined,
      );
    },
    update: () => repository.updateRating(randomId(), Math.round(Math.random() * 100) / 10),
  };
}

async function measure(
  run: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<Omit<Cell, 'operation'>> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const worker = async (deadline: number, record: boolean) => {
    do {
      const started = process.hrtime.bigint();
      await run();
      if (record) histogram.recordValue(Number((process.hrtime.bigint() - started) / 1000n) || 1);
    } while (Date.now() < deadline);
  };
  const workers = (deadline: number, record: boolean) =>
    Promise.all(Array.from({ length: concurrency }, () => worker(deadline, record)));
  await workers(Date.now() + Math.min(1_000, durationMs / 3), false);
  const started = process.hrtime.bigint();
  await workers(Date.now() + durationMs, true);
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    concurrency,
    ops: histogram.totalCount,
    opsPerSecond: Math.round(histogram.totalCount / elapsedS),
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
  };
}

async function benchBackend(
  backend: string,
  uri: string,
  sizes: number[],
  options: { concurrency: number[]; durationMs: number; bundled: Bundled },
): Promise<SizeResult[]> {
  const connection = await mongoose.createConnection(uri).asPromise();
  const results: SizeResult[] = [];
  try {
    const model = connection.model<MovieEntity>(MovieEntity.name, MovieSchema);
    await model.init(); // the schema's indexes, as the service creates them
    for (const size of sizes) {
      console.log(`${backend}: ${size} documents`);
      const documents = await fill(connection, size, options.bundled);
      if (documents > size) {
        console.log(`  skipped: the collection already holds ${documents} documents`);
        continue;
      }
      const repository = new MoviesRepository(
        model,
        connection,
        loadConfig({ MONGODB_URI: uri, MONGO_TIMEOUT_MS: '60000' }),
        new MetricsService(),
      );
      const ops = operations(repository, size, options.bundled);
      const result: SizeResult = { backend, documents, cells: [], plans: {} };
      result.plans = await plans(connection, options.bundled);
      for (const operation of OPERATIONS) {
        for (const concurrency of options.concurrency) {
          const single = result.cells.find((c) => c.operation === operation && c.concurrency === 1);
          if (concurrency > 1 && single && single.p50Ms > SLOW_MS) continue;
          const cell = await measure(ops[operation], concurrency, options.durationMs);
          result.cells.push({ operation, ...cell });
          console.log(
            `  ${operation} c=${concurrency}: p50 ${cell.p50Ms} ms, p99 ${cell.p99Ms} ms, ${cell.opsPerSecond} ops/s`,
          );
        }
      }
      results.push(result);
    }
  } finally {
    await connection.close();
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'postgresql' },
      sizes: { type: 'string', default: '1000,100000' },
      million: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '1,16' },
      'data-dir': { type: 'string' },
      uri: { type: 'string' },
      out: { type: 'string', default: join(projectRoot(), 'bench/results/db.json') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const list = (text: string) => text.split(',').map((v) => Number(v.trim()));
  const sizes = [...list(values.sizes), ...(values.million ? [1_000_000] : [])]
    .filter((v, i, all) => all.indexOf(v) === i)
    .sort((a, b) => a - b);
  const concurrency = list(values.concurrency);
  if ([...sizes, ...concurrency].some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error('--sizes and --concurrency take positive integers');
  }
  const bundled = await bundledMovies();
  if (sizes[0] < bundled.ids.length) throw new Error(`sizes start at ${bundled.ids.length}`);
  const options = { concurrency, durationMs: Number(values.seconds) * 1000, bundled };

  const results: SizeResult[] = [];
  if (values.uri) {
    results.push(...(await benchBackend('given server', values.uri, sizes, options)));
  }
  const backends = values.uri ? [] : (values.backends.split(',') as FerretDbBackend[]);
  for (const backend of backends) {
    const keep = values['data-dir'];
    const dataDir = keep
      ? join(resolve(keep), backend)
      : mkdtempSync(join(tmpdir(), `movie-cache-bench-db-`));
    const stack = await startEmbeddedStack({
      dataDir,
      redis: false,
      mongo: true,
      mongoBackend: backend,
    });
    try {
      // FerretDB's SQLite backend scans for every query: 1M documents would take hours.
      const backendSizes = backend === 'sqlite' ? sizes.filter((s) => s <= 100_000) : sizes;
      results.push(...(await benchBackend(backend, stack.mongoUri!, backendSizes, options)));
    } finally {
      await stack.stop();
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  printTable(results, concurrency);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ measuredAt: new Date(), results }, null, 2) + '\n');
  console.log(`written to ${values.out}`);
}

main().catch((error: unknown) => {
  console.error(`bench:db failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
