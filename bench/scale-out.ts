/**
 * Scale-out on this machine: a local Redis Cluster (3 masters + 3 replicas), the embedded
 * MongoDB, and 1, 2 and 3 instances of the built service. GetMovie throughput through ghz
 * against every instance at once (a client balancing over them), with the near-cache on and
 * off (off: every hit is a Redis Cluster round trip), with each instance's CPU per 1,000 calls;
 * then StreamTrending streams spread over the instances: rankings per tick (ZUNIONSTORE calls
 * summed over the masters) and instance CPU. Usage: npm run bench:scale [-- --seconds 5]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { mongo } from 'mongoose';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { MOVIE_PROTO_PATH, projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';
import { startFerretDb } from '../src/stack/embedded-stack';
import { startRedisCluster } from '../src/stack/redis-cluster';
import { clusterInspector } from '../test/support/cluster-inspector';
import { cpuSeconds, startService, type RunningService } from './service';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    streams: { type: 'string', default: '300' },
  },
});
const seconds = Number(values.seconds);
const GHZ = join(projectRoot(), '.tools/bin/ghz');

async function ghz(address: string, dataFile: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    GHZ,
    [
      ...['--insecure', '--proto', MOVIE_PROTO_PATH, '--call', 'movies.v1.MovieService/GetMovie'],
      ...['--data-file', dataFile, '-c', '16', '--connections', '4', '-z', `${seconds}s`],
      ...['--duration-stop', 'wait', '-O', 'json', address],
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const report = JSON.parse(stdout) as { count: number; statusCodeDistribution?: object };
  return report.count;
}

async function throughput(services: RunningService[], dataFile: string) {
  const before = services.map((s) => cpuSeconds(s.pid));
  const counts = await Promise.all(services.map((s) => ghz(s.address, dataFile)));
  const cpu = services.map((s, i) => cpuSeconds(s.pid) - before[i]);
  const calls = counts.reduce((a, b) => a + b, 0);
  return {
    rps: Math.round(calls / seconds),
    cpuMsPer1000: Math.round((1000 * cpu.reduce((a, b) => a + b, 0) * 1000) / calls),
  };
}

async function trending(services: RunningService[], seeds: string) {
  const inspector = clusterInspector(seeds);
  const streams = Array.from({ length: Number(values.streams) }, (_, i) =>
    services[i % services.length].api.streamTrending({ windowSeconds: 300, intervalMs: 1000 }),
  );
  for (const stream of streams) stream.on('error', () => undefined);
  await sleep(2_000);
  await inspector.config('RESETSTAT');
  const before = services.map((s) => cpuSeconds(s.pid));
  await sleep(seconds * 1000);
  const stats = await inspector.info('commandstats');
  const cpu = services.map((s, i) => cpuSeconds(s.pid) - before[i]);
  streams.forEach((stream) => stream.cancel());
  inspector.disconnect();
  return {
    rankingsPerTick: Number(/cmdstat_zunionstore:calls=(\d+)/.exec(stats)?.[1] ?? 0) / seconds,
    cpuPercentPerInstance: Math.round(
      (100 * cpu.reduce((a, b) => a + b, 0)) / seconds / services.length,
    ),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'movie-cache-scale-'));
  const [mongo, cluster] = await Promise.all([startFerretDb(dir), startRedisCluster(dir)]);
  const running: RunningService[] = [];
  try {
    const env = {
      MONGODB_URI: `mongodb://127.0.0.1:${mongo.port}/sample_mflix`,
      REDIS_CLUSTER_NODES: cluster.seeds,
      // Every stream comes from this one process.
      TRENDING_MAX_STREAMS_PER_PEER: values.streams!,
    };
    const rows: Array<Record<string, unknown>> = [];
    for (const near of ['on', 'off']) {
      for (let i = 0; i < 3; i += 1)
        running.push(
          await startService({ ...env, NEAR_CACHE: near, SEED_IF_EMPTY: String(i === 0) }),
        );
      const ids = await hotIds(env.MONGODB_URI);
      const dataFile = join(dir, 'ids.json');
      writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
      for (const service of running) for (const id of ids) await service.api.getMovie({ id });
      for (const n of [1, 2, 3]) {
        const result = await throughput(running.slice(0, n), dataFile);
        rows.push({ nearCache: near, instances: n, ...result });
        console.log(rows.at(-1));
      }
      if (near === 'on')
        for (const n of [1, 2, 3]) {
          const result = await trending(running.slice(0, n), cluster.seeds);
          rows.push({ trending: `${values.streams} streams`, instances: n, ...result });
          console.log(rows.at(-1));
        }
      await Promise.all(running.splice(0).map((s) => s.stop()));
    }
    console.table(rows);
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    await Promise.all([mongo.stop(), cluster.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The hot key set: the first 100 movies. */
async function hotIds(uri: string): Promise<string[]> {
  const client = await new mongo.MongoClient(uri).connect();
  try {
    const rows = await client
      .db()
      .collection(MOVIES_COLLECTION)
      .find({}, { projection: { _id: 1 } })
      .limit(100)
      .toArray();
    return rows.map((row) => String(row._id));
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
