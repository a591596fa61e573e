/**
 * npm run bench: GetMovie hits side by side (bare grpc-js, the Nest floor, a Redis-GET-per-call
 * peer, the service's near-cache and Redis hits, and uncached reads), cold reads (misses and title
 * misses against uncached reads at c32), RunBenchmark over 100,000 requests, UpdateRating alone
 * against its floor, and two instances with a writer. Writes bench/results/load.json and
 * latency.svg. Every side server runs on the service's Node.js and heap flags.
 * Usage: npm run bench -- [--seconds 6] [--rounds 4] [--keys 20] [--connections 4] [--chart-only]
 *        npm run bench -- --scenario ttl|outage [--seconds 120]   (bench/expiry.ts)
 *        npm run bench -- --scenario profile [--target near|redis|floor|peer|ceiling]
 *        npm run bench -- --scenario heap [--seconds 6] [--rounds 2] [--only runbenchmark]   (bench/heap.ts)
 *        npm run bench -- --scenario costs [--calls 200]   (bench/costs.ts)
 *        npm run bench -- --scenario feed-lag [--writes 500] [--concurrency 16]   (bench/feed-lag.ts)
 *        npm run bench -- --scenario stalled [--streams 200] [--seconds 20] [--rounds 3] [--build a=<dir>]   (bench/trending-stalled.ts)
 *        npm run bench -- --scenario tracing [--rounds 4] [--build before=<dir>]   (bench/tracing.ts)
 *        npm run bench -- --scenario consistency [--rounds 4]   (bench/consistency.ts)
 *        npm run bench -- --scenario batch [--rounds 4] [--concurrency 16] [--misses 3000]   (bench/batch.ts)
 *        npm run bench -- --scenario builds --build a=<dir>[:node] --build b=...   (bench/compare-builds.ts)
 *        npm run bench -- --scenario writes [--rounds 4] [--seconds 8] [--rate 40] [--build a=<dir>]   (bench/writes.ts)
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/common/paths';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { batchScenario } from './batch';
import { coldRatios, coldRounds, importColdMovies } from './cold';
import { compareBuilds, parseBuild } from './compare-builds';
import { consistencyScenario } from './consistency';
import { expiryScenario } from './expiry';
import { chart } from './chart';
import { firstIds, twoInstanceRuns } from './fleet';
import { ghz, sampleRss } from './ghz';
import { costsScenario } from './costs';
import { feedLagScenario } from './feed-lag';
import { heapScenario } from './heap';
import { profileScenario } from './profile';
import { stalledScenario } from './trending-stalled';
import { tracingScenario } from './tracing';
import { writesScenario } from './writes';
import {
  measureRounds,
  pointRows,
  ratiosTo,
  startComparisonServer,
  type Point,
  type Server,
} from './hits';
import { hotCacheEnv, startService, type RunningService } from './service';

const ROOT = projectRoot();
const RESULTS = join(ROOT, 'bench/results');

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      keys: { type: 'string', default: '20' },
      connections: { type: 'string', default: '4' },
      concurrency: { type: 'string' },
      target: { type: 'string' },
      'chart-only': { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string', default: 'load' },
      build: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string' },
      misses: { type: 'string', default: '3000' },
      calls: { type: 'string' },
      writes: { type: 'string' },
      streams: { type: 'string' },
      rate: { type: 'string', default: '40' },
    },
  });
  if (values.scenario === 'writes') {
    await writesScenario({
      seconds: Number(values.seconds ?? 8),
      rounds: Number(values.rounds ?? 4),
      rate: Number(values.rate),
      builds: values.build.map(parseBuild),
    });
    return;
  }
  if (values.scenario === 'builds') {
    return compareBuilds(values.build.map(parseBuild), {
      rounds: Number(values.rounds ?? 3),
      seconds: Number(values.seconds ?? 5),
      misses: Number(values.misses),
    });
  }
  if (values.scenario === 'profile') {
    return profileScenario({
      seconds: Number(values.seconds ?? 10),
      concurrency: Number(values.concurrency ?? 16),
      target: values.target ?? 'near',
    });
  }
  if (values.scenario === 'costs') {
    return costsScenario({ calls: Number(values.calls ?? 200) });
  }
  if (values.scenario === 'feed-lag') {
    return feedLagScenario({
      writes: Number(values.writes ?? 500),
      concurrency: Number(values.concurrency ?? 16),
    });
  }
  if (values.scenario === 'stalled') {
    return stalledScenario({
      streams: Number(values.streams ?? 200),
      seconds: Number(values.seconds ?? 20),
      rounds: Number(values.rounds ?? 3),
      builds: values.build.map(parseBuild),
    });
  }
  if (values.scenario === 'tracing') {
    return tracingScenario({
      seconds: Number(values.seconds ?? 6),
      rounds: Number(values.rounds ?? 4),
      builds: values.build.map(parseBuild),
      keys: Number(values.keys),
    });
  }
  if (values.scenario === 'consistency') {
    return consistencyScenario({
      seconds: Number(values.seconds ?? 6),
      rounds: Number(values.rounds ?? 4),
      keys: Number(values.keys),
    });
  }
  if (values.scenario === 'batch') {
    return batchScenario({
      seconds: Number(values.seconds ?? 6),
      rounds: Number(values.rounds ?? 4),
      concurrency: Number(values.concurrency ?? 16),
      misses: Number(values.misses),
      connections: Number(values.connections),
    });
  }
  if (values.scenario === 'heap') {
    return heapScenario({
      seconds: Number(values.seconds ?? 6),
      rounds: Number(values.rounds ?? 2),
      only: values.only,
    });
  }
  if (values.scenario === 'ttl' || values.scenario === 'outage') {
    const seconds = Number(values.seconds ?? 120);
    return expiryScenario(values.scenario, seconds, mkdtempSync(join(tmpdir(), 'bench-expiry-')));
  }
  if (values['chart-only']) {
    const { readFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(join(RESULTS, 'load.json'), 'utf8')) as {
      results: Point[];
    };
    return chart(saved.results, join(RESULTS, 'latency.svg'));
  }
  const seconds = Number(values.seconds ?? 6);
  const rounds = Number(values.rounds ?? 4);
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-load-')),
    redis: true,
    mongo: true,
  });
  const cold = { rounds, concurrency: 32, reads: 1_500 };
  // Before the services start: the bundled movies, then the cold reads' (after them by _id).
  const coldMovies = await importColdMovies(stack.mongoUri!, cold);
  const services: RunningService[] = [];
  const others: Array<Server & { stop(): Promise<void> }> = [];
  try {
    const serviceEnv = (cacheEnabled: boolean, nearCache = 'on') =>
      hotCacheEnv(stack, { CACHE_ENABLED: String(cacheEnabled), NEAR_CACHE: nearCache });
    services.push(await startService(serviceEnv(true)));
    services.push(await startService(serviceEnv(false)));
    services.push(await startService(serviceEnv(true, 'off')));
    for (const name of ['ceiling', 'floor', 'peer'] as const)
      others.push(await startComparisonServer(name, stack.redisUrl));
    const [near, uncached, redis] = services;
    const servers: Server[] = [
      ...others,
      { ...near, name: 'near' },
      { ...redis, name: 'redis' },
      { ...uncached, name: 'uncached' },
    ];

    // The hot key set: the first N movies by _id, warmed so every cached read is a hit.
    const ids = await firstIds(stack.mongoUri!, Number(values.keys));
    const dataFile = join(mkdtempSync(join(tmpdir(), 'ghz-')), 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
    for (const server of servers) await ghz(server.address, 1, { requests: ids.length }, dataFile);

    const results = await measureRounds(servers, {
      concurrencies: [16, 64],
      rounds,
      seconds,
      dataFile,
      connections: Number(values.connections),
    });
    const coldPoints = await coldRounds(
      { cached: near.address, uncached: uncached.address },
      coldMovies,
      cold,
    );
    const api = near.api;
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

    const ratios = ratiosTo(results, [
      ['near', 'floor'],
      ['near', 'peer'],
      ['peer', 'floor'],
      ['floor', 'ceiling'],
      ['near', 'ceiling'],
      ['redis', 'peer'],
      ['redis', 'floor'],
      ['near', 'uncached'],
    ]);
    const fleets = await twoInstanceRuns(stack, serviceEnv, ids, dataFile, seconds);
    // Its own stack: the floor's writes go behind the cache's back.
    const writes = await writesScenario({
      rounds: Math.max(2, rounds / 2),
      seconds: 8,
      rate: 40,
      builds: [],
    });
    console.log(
      '\nghz, GetMovie on a hot key set of',
      ids.length,
      'movies,',
      seconds,
      's per scenario',
    );
    console.table(pointRows(results));
    console.table(ratios);
    console.log(
      `\ncold reads (each movie read once, ${cold.reads} per point), medians of ${rounds} rounds`,
    );
    console.table(coldPoints);
    console.table(coldRatios(coldPoints));
    console.log('\ntwo instances, ghz readers on both (c16 each), a writer on the first');
    console.table(fleets);
    console.log(
      `cache hit ratio of the cached server during the runs: ${(stats.hitRatio * 100).toFixed(1)}%`,
    );
    console.log(
      `RunBenchmark 100,000 requests over 1,000 keys @ concurrency 32, cold: ${(big.durationMs / 1000).toFixed(1)} s, ${big.throughputRps.toFixed(0)} req/s, hit p50 ${big.hitLatency?.p50Ms} ms, miss p50 ${big.missLatency?.p50Ms} ms, hit ratio ${(big.hitRatio * 100).toFixed(1)}% (bound ${(big.optimalHitRatio * 100).toFixed(1)}%), errors ${big.errors}, server RSS max ${bigRss.toFixed(0)} MB`,
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
      cold: { ...cold, points: coldPoints, ratios: coldRatios(coldPoints) },
      writes,
      runBenchmark100k: {
        keySpace: 1_000,
        durationMs: big.durationMs,
        throughputRps: big.throughputRps,
        hitRatio: big.hitRatio,
        errors: big.errors,
        hitP50Ms: big.hitLatency?.p50Ms,
        missP50Ms: big.missLatency?.p50Ms,
        serverRssMb: bigRss,
      },
    };
    writeFileSync(join(RESULTS, 'load.json'), JSON.stringify(output, null, 2) + '\n');
    await chart(results, join(RESULTS, 'latency.svg'));
    console.log(`wrote bench/results/load.json and bench/results/latency.svg`);
  } finally {
    await Promise.all(others.map((server) => server.stop()));
    await Promise.all(services.map((service) => service.stop()));
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
