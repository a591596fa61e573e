/**
 * Outside load with ghz, side by side in one run on this machine:
 *   cached GetMovie on a hot key set (all hits) with the near-cache on (hits from process memory)
 *   and off (hits from Redis), the same with CACHE_ENABLED=false (every read from MongoDB), and a
 *   bare grpc-js server answering a constant movie (the Node gRPC ceiling); each at concurrency 16
 *   and 64. Then two instances with readers on both and a writer on one (reads/s, UpdateRating
 *   latency), near-cache on and off. Then RunBenchmark with 100,000 requests over 1,000 keys at concurrency 32.
 * Prints throughput, p50/p99 and the ratios; writes bench/results/load.json and latency.svg.
 * Usage: npm run bench -- [--seconds 8] [--keys 100] [--chart-only (redraw from load.json)]
 *        npm run bench -- --scenario ttl|outage [--seconds 120]   (see bench/expiry.ts)
 *        npm run bench -- --scenario builds --build a=<dir>[:node] --build b=...   (bench/compare-builds.ts)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import { projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';
import { MovieApi } from '../src/grpc/movie-api';
import { LatencyRecorder } from '../src/benchmark/latency-recorder';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { freePort } from '../src/stack/free-port';
import { compareBuilds, parseBuild } from './compare-builds';
import { expiryScenario } from './expiry';
import { ghz, percentile, sampleRss } from './ghz';
import { cpuSeconds, startService, type RunningService } from './service';

const ROOT = projectRoot();
const RESULTS = join(ROOT, 'bench/results');

interface Scenario {
  name: string;
  target: 'near' | 'redis' | 'uncached' | 'ceiling';
  concurrency: number;
}

interface Result extends Scenario {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  count: number;
  serverRssMb: number;
  /** Server CPU time (user + system) per answered call. */
  serverCpuUs: number;
}

/** The ceiling server answers GetMovie once it is up. */
async function waitReady(address: string): Promise<void> {
  const api = MovieApi.connect(address);
  try {
    for (let i = 0; i < 300; i += 1) {
      try {
        await api.getMovie({ id: '573a1390f29313caabcd42e8' });
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`${address} did not answer`);
  } finally {
    api.close();
  }
}

async function chart(results: Result[], file: string): Promise<void> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const values = results.flatMap((r) => [
    { scenario: r.name, percentile: 'p50', ms: r.p50Ms },
    { scenario: r.name, percentile: 'p99', ms: r.p99Ms },
  ]);
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'GetMovie latency under ghz load (lower is better)',
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'point', filled: true, size: 140 },
    encoding: {
      y: { field: 'scenario', type: 'nominal', sort: null, title: null },
      yOffset: { field: 'percentile' },
      x: {
        field: 'ms',
        type: 'quantitative',
        title: 'latency (ms, log scale)',
        scale: { type: 'log' },
      },
      color: { field: 'percentile', type: 'nominal' },
    },
  } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      keys: { type: 'string', default: '100' },
      'chart-only': { type: 'boolean', default: false },
      scenario: { type: 'string', default: 'load' },
      build: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '3' },
      misses: { type: 'string', default: '3000' },
    },
  });
  if (values.scenario === 'builds') {
    return compareBuilds(values.build.map(parseBuild), {
      rounds: Number(values.rounds),
      seconds: values.seconds === '8' ? 5 : Number(values.seconds),
      misses: Number(values.misses),
    });
  }
  if (values.scenario === 'ttl' || values.scenario === 'outage') {
    const seconds = values.seconds === '8' ? 120 : Number(values.seconds);
    return expiryScenario(values.scenario, seconds, mkdtempSync(join(tmpdir(), 'bench-expiry-')));
  }
  if (values['chart-only']) {
    const { readFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(join(RESULTS, 'load.json'), 'utf8')) as {
      results: Result[];
    };
    return chart(saved.results, join(RESULTS, 'latency.svg'));
  }
  const seconds = Number(values.seconds);
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-load-')),
    redis: true,
    mongo: true,
  });
  const services: RunningService[] = [];
  let ceiling: ChildProcess | undefined;
  try {
    const serviceEnv = (cacheEnabled: boolean, nearCache = 'on') => ({
      MONGODB_URI: stack.mongoUri!,
      REDIS_URL: stack.redisUrl!,
      CACHE_ENABLED: String(cacheEnabled),
      CACHE_TTL_SECONDS: '3600',
      NEAR_CACHE: nearCache,
      NEAR_CACHE_TTL_MS: '3600000',
    });
    // One after the other: the first imports the bundled movies.
    services.push(await startService(serviceEnv(true)));
    services.push(await startService(serviceEnv(false)));
    services.push(await startService(serviceEnv(true, 'off')));
    const ceilingPort = await freePort();
    // One process (tsx as a loader, not a wrapper), so its pid is the server's for CPU and RSS.
    ceiling = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/ceiling-server.ts'), String(ceilingPort)],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT },
    );
    const targets: Record<Scenario['target'], { address: string; pid: number }> = {
      near: services[0],
      uncached: services[1],
      redis: services[2],
      ceiling: { address: `127.0.0.1:${ceilingPort}`, pid: ceiling.pid! },
    };
    await waitReady(targets.ceiling.address);

    // The hot key set: the first N movies by _id, warmed so every cached read is a hit.
    const ids = await firstIds(stack.mongoUri!, Number(values.keys));
    const api = services[0].api;
    for (const id of ids) {
      await api.getMovie({ id });
      await services[2].api.getMovie({ id });
    }
    const dataFile = join(mkdtempSync(join(tmpdir(), 'ghz-')), 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));

    const scenarios: Scenario[] = [];
    for (const concurrency of [16, 64]) {
      for (const target of ['near', 'redis', 'uncached', 'ceiling'] as const) {
        scenarios.push({ name: `${target} c${concurrency}`, target, concurrency });
      }
    }
    const results: Result[] = [];
    for (const scenario of scenarios) {
      const { address, pid } = targets[scenario.target];
      const cpuBefore = cpuSeconds(pid);
      const [report, rss] = await sampleRss(
        pid,
        ghz(address, scenario.concurrency, seconds, dataFile),
      );
      const ok = report.statusCodeDistribution?.OK ?? 0;
      results.push({
        ...scenario,
        rps: report.rps,
        p50Ms: percentile(report, 50),
        p99Ms: percentile(report, 99),
        errors: report.count - ok,
        count: report.count,
        serverRssMb: rss,
        serverCpuUs: ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, ok),
      });
      console.log(
        `${scenario.name}: ${report.rps.toFixed(0)} req/s, p50 ${percentile(report, 50).toFixed(2)} ms, p99 ${percentile(report, 99).toFixed(2)} ms, server CPU ${results.at(-1)!.serverCpuUs.toFixed(0)} µs/call`,
      );
    }

    const stats = await api.getCacheStats();
    const [big, bigRss] = await sampleRss(
      services[0].pid,
      api.runBenchmark(
        { requests: 100_000, concurrency: 32, keySpace: 1_000, seed: 42 },
        undefined,
        {
          deadline: Date.now() + 120_000,
        },
      ),
    );

    const ratios = [16, 64].map((c) => {
      const get = (target: string) =>
        results.find((r) => r.target === target && r.concurrency === c)!;
      const ceilingRps = get('ceiling').rps;
      const ceilingP99 = get('ceiling').p99Ms;
      return {
        concurrency: c,
        nearOverCeilingThroughput: get('near').rps / ceilingRps,
        nearOverCeilingP99: get('near').p99Ms / ceilingP99,
        redisOverCeilingThroughput: get('redis').rps / ceilingRps,
        redisOverCeilingP99: get('redis').p99Ms / ceilingP99,
        nearOverUncachedThroughput: get('near').rps / get('uncached').rps,
      };
    });
    const fleets = await twoInstanceRuns(stack, serviceEnv, ids, dataFile, seconds);
    console.log(
      '\nghz, GetMovie on a hot key set of',
      ids.length,
      'movies,',
      seconds,
      's per scenario',
    );
    console.table(
      results.map((r) => ({
        scenario: r.name,
        'req/s': r.rps.toFixed(0),
        'p50 ms': r.p50Ms.toFixed(2),
        'p99 ms': r.p99Ms.toFixed(2),
        errors: r.errors,
        'server RSS MB (max)': r.serverRssMb.toFixed(0),
        'server CPU µs/call': r.serverCpuUs.toFixed(0),
      })),
    );
    console.table(
      ratios.map((r) => ({
        concurrency: r.concurrency,
        'near/ceiling throughput': r.nearOverCeilingThroughput.toFixed(2),
        'near/ceiling p99': r.nearOverCeilingP99.toFixed(2),
        'redis/ceiling throughput': r.redisOverCeilingThroughput.toFixed(2),
        'redis/ceiling p99': r.redisOverCeilingP99.toFixed(2),
        'near/uncached throughput': r.nearOverUncachedThroughput.toFixed(2),
      })),
    );
    console.log('\ntwo instances, ghz readers on both (c16 each), a writer on the first');
    console.table(fleets);
    console.log(
      `cache hit ratio of the cached server during the runs: ${(stats.hitRatio * 100).toFixed(1)}%`,
    );
    console.log(
      `RunBenchmark 100,000 requests over 1,000 keys @ concurrency 32: ${(big.durationMs / 1000).toFixed(1)} s, ${big.throughputRps.toFixed(0)} req/s, hit ratio ${(big.hitRatio * 100).toFixed(1)}% (bound ${(big.optimalHitRatio * 100).toFixed(1)}%), errors ${big.errors}, server RSS max ${bigRss.toFixed(0)} MB`,
    );

    mkdirSync(RESULTS, { recursive: true });
    const output = {
      measuredAt: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      secondsPerScenario: seconds,
      hotKeys: ids.length,
      results,
      ratios,
      twoInstances: fleets,
      runBenchmark100k: {
        keySpace: 1_000,
        durationMs: big.durationMs,
        throughputRps: big.throughputRps,
        hitRatio: big.hitRatio,
        errors: big.errors,
        serverRssMb: bigRss,
      },
    };
    writeFileSync(join(RESULTS, 'load.json'), JSON.stringify(output, null, 2) + '\n');
    await chart(results, join(RESULTS, 'latency.svg'));
    console.log(`wrote bench/results/load.json and bench/results/latency.svg`);
  } finally {
    ceiling?.kill('SIGTERM');
    await Promise.all(services.map((service) => service.stop()));
    await stack.stop();
  }
}

interface FleetResult {
  nearCache: string;
  'reads/s (both)': number;
  writes: number;
  'UpdateRating p50 ms': number;
  'UpdateRating p99 ms': number;
  'stale reads': number;
}

/**
 * Two instances (near-cache on, then off): ghz reads on both while one writer updates the hot
 * movies on the first; reads/s of both, write latency, and whether a read after a write on the
 * other instance ever returned the old rating.
 */
async function twoInstanceRuns(
  stack: { mongoUri?: string; redisUrl?: string },
  serviceEnv: (cacheEnabled: boolean, nearCache?: string) => Record<string, string>,
  ids: string[],
  dataFile: string,
  seconds: number,
): Promise<FleetResult[]> {
  const fleets: FleetResult[] = [];
  for (const nearCache of ['on', 'off']) {
    const pair = [
      await startService(serviceEnv(true, nearCache)),
      await startService(serviceEnv(true, nearCache)),
    ];
    try {
      for (const service of pair) for (const id of ids) await service.api.getMovie({ id });
      const latencies = new LatencyRecorder();
      let stale = 0;
      let writes = 0;
      let running = true;
      const writer = (async () => {
        for (let i = 0; running; i += 1) {
          const id = ids[i % ids.length];
          const rating = (i % 100) / 10;
          const started = performance.now();
          await pair[0].api.updateRating({ id, rating });
          latencies.recordMs(performance.now() - started);
          writes += 1;
          if ((await pair[1].api.getMovie({ id })).movie?.rating !== rating) stale += 1;
          await sleep(20);
        }
      })();
      const reports = await Promise.all(
        pair.map((service) => ghz(service.address, 16, seconds, dataFile)),
      );
      running = false;
      await writer;
      const write = latencies.stats();
      fleets.push({
        nearCache,
        'reads/s (both)': Math.round(reports.reduce((sum, r) => sum + r.rps, 0)),
        writes,
        'UpdateRating p50 ms': Number(write.p50Ms.toFixed(2)),
        'UpdateRating p99 ms': Number(write.p99Ms.toFixed(2)),
        'stale reads': stale,
      });
    } finally {
      await Promise.all(pair.map((service) => service.stop()));
    }
  }
  return fleets;
}

async function firstIds(mongoUri: string, n: number): Promise<string[]> {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  try {
    const rows = await connection
      .collection(MOVIES_COLLECTION)
      .find({}, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(n)
      .toArray();
    return rows.map((row) => String(row._id));
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
