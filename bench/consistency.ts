/**
 * npm run bench -- --scenario consistency [--seconds 6] [--rounds 4]: what the consistency
 * checker costs near-cache hits. The same build with the checker off (CONSISTENCY_SAMPLE_RATE=0),
 * at its default rate (1% of hits, 20 a second at most) and sampling every hit (past the cap,
 * each one counted as dropped), side by side on one embedded stack, rounds alternating; medians
 * and ratios to off, then what each checker did meanwhile. First, in process, what one call of the
 * sampler costs at each rate (the machine's noise hides it in the servers' figures).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/app-config';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../src/generated/nest/movies/v1/movie_service';
import { MetricsService } from '../src/metrics/metrics.service';
import { ConsistencyPolicy } from '../src/movies/consistency/consistency-policy';
import { ConsistencySampler } from '../src/movies/consistency/consistency-sampler';
import type { MovieLookup } from '../src/movies/movie-lookup';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz } from './ghz';
import { measureRounds, pointRows, ratiosTo, type Server } from './hits';
import { hotCacheEnv, startService, type RunningService } from './service';

/** Nanoseconds per `sample()` of a near-cache hit, at each rate, over 20 million calls. */
export function samplerCost(): void {
  const lookup: MovieLookup = { kind: 'id', id: 'a'.repeat(24) };
  const hit: GetMovieResponse & { movie: Movie } = {
    movie: { id: 'a'.repeat(24), revision: 1 } as Movie,
    cacheStatus: CacheStatus.CACHE_STATUS_HIT,
    cacheTier: CacheTier.CACHE_TIER_LOCAL,
  };
  const calls = 20_000_000;
  const rows: Record<string, { 'ns/call': number; recorded: number }> = {};
  for (const rate of ['0', '0.01', '1']) {
    const policy = new ConsistencyPolicy(loadConfig({ CONSISTENCY_SAMPLE_RATE: rate }));
    const sampler = new ConsistencySampler(policy, new MetricsService());
    for (let i = 0; i < 1_000_000; i += 1) sampler.sample(lookup, hit); // warm up
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i += 1) sampler.sample(lookup, hit);
    const ns = Number(process.hrtime.bigint() - started) / calls;
    rows[`rate ${rate}`] = { 'ns/call': Number(ns.toFixed(2)), recorded: sampler.recorded };
  }
  console.log('the sampler in process, per near-cache hit:');
  console.table(rows);
}

export async function consistencyScenario(options: {
  seconds: number;
  rounds: number;
  keys: number;
}): Promise<void> {
  samplerCost();
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-consistency-')),
    redis: true,
    mongo: true,
  });
  const services: Array<RunningService & { name: string }> = [];
  try {
    // One after the other: the first imports the bundled movies.
    for (const [name, rate] of [
      ['off', '0'],
      ['default-1%', '0.01'],
      ['every-hit', '1'],
    ] as const)
      services.push({
        ...(await startService(hotCacheEnv(stack, { CONSISTENCY_SAMPLE_RATE: rate }))),
        name,
      });

    const ids = await firstIds(stack.mongoUri!, options.keys);
    const dataFile = join(mkdtempSync(join(tmpdir(), 'ghz-')), 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
    const servers: Server[] = services.map(({ name, address, pid }) => ({ name, address, pid }));
    for (const server of servers) await ghz(server.address, 1, { requests: ids.length }, dataFile);

    const results = await measureRounds(servers, {
      concurrencies: [16, 64],
      rounds: options.rounds,
      seconds: options.seconds,
      dataFile,
    });
    console.log(
      `\nGetMovie near-cache hits on ${ids.length} hot movies, ${options.seconds} s a run`,
    );
    console.table(pointRows(results));
    console.table(
      ratiosTo(
        results,
        servers.slice(1).map((s) => [s.name, 'off']),
      ),
    );
    for (const service of services.slice(1)) {
      const { consistency } = await service.api.getCacheStats();
      console.log(
        `${service.name}: ${consistency?.samples} samples, ${consistency?.dropped} past the cap, ` +
          consistency?.horizons
            .map((h) => `${h.seconds} s: ${h.checks} checks, ${h.inconsistent} inconsistent`)
            .join('; '),
      );
    }
  } finally {
    for (const service of services) await service.stop();
    await stack.stop();
  }
}
