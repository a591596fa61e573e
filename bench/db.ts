import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import * as hdr from 'hdr-histogram-js';
import mongoose, { type Connection, Types } from 'mongoose';
import { BUNDLED_MOVIES_PATH, projectRoot } from '../src/common/paths';
import { importMovies, readMovieFile } from '../src/movies/import/movie-import';
import { syntheticId, syntheticMovies } from '../src/movies/import/synthetic-movies';
import { loadConfig } from '../src/config/app-config';
import { MetricsService } from '../src/metrics/metrics.service';
import { MOVIES_COLLECTION, MovieEntity, MovieSchema } from '../src/movies/movie.schema';
import { MoviesRepository } from '../src/movies/movies.repository';
import { startEmbeddedStack, type FerretDbBackend } from '../src/stack/embedded-stack';

const USAGE = `npm run bench:db -- [--backends postgresql,sqlite] [--sizes 1000,100000] [--million]
                       [--seconds 3] [--concurrency 1,16] [--data-dir <dir>] [--uri <mongodb uri>]
  The service's MoviesRepository (id, title + sort by votes, UpdateRating) against the embedded
  FerretDB, at each size: 1,000 bundled sample_mflix movies plus synthetic ones (seed 1).
  --backends     FerretDB backends, side by side (sqlite is measured up to 100,000 documents)
  --million      adds 1,000,000 documents (about 2 minutes of import on 2 cores, 3 GB of disk)
  --data-dir     keep the data there (<dir>/<backend>) and reuse it on the next run
  --uri          measure this server instead (e.g. a real MongoDB; its database is filled as above)`;

type Operation = 'id' | 'title' | 'update';
const OPERATIONS: Operation[] = ['id', 'title', 'update'];
const SLOW_MS = 200; // a backend this slow at concurrency 1 is not run at higher concurrency
const SYNTHETIC_SEED = 1;

interface Cell {
  operation: Operation;
  concurrency: number;
  ops: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

interface SizeResult {
  backend: string;
  documents: number;
  cells: Cell[];
  plans: Record<string, string>;
}

interface Bundled {
  ids: Types.ObjectId[];
  titles: Array<{ title: string; year?: number }>;
}

async function bundledMovies(): Promise<Bundled> {
  const bundled: Bundled = { ids: [], titles: [] };
  for await (const doc of readMovieFile(BUNDLED_MOVIES_PATH)) {
    bundled.ids.push(doc._id as Types.ObjectId);
    const year = typeof doc.year === 'number' ? doc.year : undefined;
    bundled.titles.push({ title: String(doc.title), year });
  }
  return bundled;
}

/** Grows the collection to `size`: the bundled movies, then synthetic ones in generator order. */
async function fill(connection: Connection, size: number, bundled: Bundled): Promise<number> {
  const movies = connection.collection(MOVIES_COLLECTION);
  let count = await movies.estimatedDocumentCount();
  if (count === 0)
    count = (await importMovies(movies, readMovieFile(BUNDLED_MOVIES_PATH))).inserted;
  if (count >= size) return count;
  const started = Date.now();
  const from = count - bundled.ids.length;
  const docs = skip(syntheticMovies(size - bundled.ids.length, SYNTHETIC_SEED), from);
  const result = await importMovies(movies, docs, {
    onBatch: (done) =>
      done % 100_000 === 0 && console.log(`  ${count + done} documents (${seconds(started)} s)`),
  });
  console.log(`  imported ${result.inserted} movies in ${seconds(started)} s`);
  return movies.estimatedDocumentCount();
}

function* skip<T>(items: Iterable<T>, count: number): Generator<T> {
  let index = 0;
  for (const item of items) if (index++ >= count) yield item;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

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

/** What the server says it does for the find queries: an index (which) or a full scan. */
async function plans(connection: Connection, bundled: Bundled): Promise<Record<string, string>> {
  const { title, year } = bundled.titles.find((t) => t.year !== undefined)!;
  const queries = {
    id: { filter: { _id: bundled.ids[0] } },
    title: { filter: { title }, sort: { 'imdb.votes': -1, _id: 1 } },
    'title+year': { filter: { title, year }, sort: { 'imdb.votes': -1, _id: 1 } },
  };
  const result: Record<string, string> = {};
  for (const [name, query] of Object.entries(queries)) {
    const explain = await connection
      .db!.command({ explain: { find: MOVIES_COLLECTION, ...query, limit: 1 } })
      .catch((error: Error) => ({ error: error.message }));
    result[name] = planSummary(explain);
  }
  return result;
}

function planSummary(explain: Record<string, unknown>): string {
  if (explain.error) return `explain failed: ${String(explain.error)}`;
  const text = JSON.stringify(explain.queryPlanner ?? explain);
  const pushdown = explain.filterPushdown === false ? ', filter not pushed down' : '';
  const index =
    /"(?:Index Name|indexName)":"([^"]+)"/.exec(text) ??
    /USING (?:COVERING )?INDEX (\w+)/.exec(text);
  if (index) return `index ${index[1]}${pushdown}`;
  if (/Seq Scan|COLLSCAN|detail=SCAN /.test(text)) return `full scan${pushdown}`;
  return `unknown plan${pushdown}`;
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

function printTable(results: SizeResult[], concurrency: number[]): void {
  const head = ['backend', 'documents'];
  for (const operation of OPERATIONS) {
    for (const c of concurrency)
      head.push(c === 1 ? `${operation} p50 c=1` : `${operation} c=${c}`);
  }
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const result of results) {
    const row = [result.backend, result.documents.toLocaleString('en-US')];
    for (const operation of OPERATIONS) {
      for (const c of concurrency) {
        const cell = result.cells.find((x) => x.operation === operation && x.concurrency === c);
        if (!cell) row.push('—');
        else if (c === 1) row.push(`${cell.p50Ms} ms`);
        else row.push(`${cell.opsPerSecond.toLocaleString('en-US')} ops/s, p50 ${cell.p50Ms} ms`);
      }
    }
    table.push(row);
  }
  console.log(table.toString());
  for (const result of results) {
    const plan = Object.entries(result.plans)
      .map(([query, summary]) => `${query}: ${summary}`)
      .join('; ');
    console.log(`${result.backend} at ${result.documents}: ${plan}`);
  }
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
