/**
 * Hits side by side: bare grpc-js (the ceiling), the Nest floor, the peer (a Redis GET per call),
 * and the service's own servers, at each concurrency; rounds alternate the order of the servers
 * and each point is the median of its rounds.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';
import { MovieApi } from '../src/grpc/movie-api';
import { freePort } from '../src/stack/free-port';
import { ghz, percentile, sampleRss } from './ghz';
import { cpuSeconds } from './service';

/** A V8 heap setting: old-space cap (0: none) and semi-space size (0: V8's own), in MB. */
export interface HeapSetting {
  oldMb: number;
  semiMb: number;
}

/** scripts/serve.sh's defaults (MAX_OLD_SPACE_MB, MAX_SEMI_SPACE_MB): every server runs with them. */
export const SERVICE_HEAP: HeapSetting = {
  oldMb: Number(process.env.MAX_OLD_SPACE_MB ?? 128),
  semiMb: Number(process.env.MAX_SEMI_SPACE_MB ?? 16),
};

export const heapFlags = ({ oldMb, semiMb }: HeapSetting): string[] => [
  ...(oldMb > 0 ? [`--max-old-space-size=${oldMb}`] : []),
  ...(semiMb > 0 ? [`--max-semi-space-size=${semiMb}`] : []),
];

/** The same setting for the service, through scripts/serve.sh. */
export const heapEnv = ({ oldMb, semiMb }: HeapSetting): Record<string, string> => ({
  MAX_OLD_SPACE_MB: String(oldMb),
  MAX_SEMI_SPACE_MB: String(semiMb),
});

export interface Server {
  name: string;
  address: string;
  pid: number;
}

export interface Point {
  name: string;
  target: string;
  concurrency: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  count: number;
  serverRssMb: number;
  /** Server CPU time (user + system) per answered call. */
  serverCpuUs: number;
}

/** One of the comparison servers in bench/servers/, in its own process. */
export async function startComparisonServer(
  name: 'ceiling' | 'floor' | 'peer',
  redisUrl = '',
  nodeFlags = heapFlags(SERVICE_HEAP),
): Promise<Server & { stop(): Promise<void> }> {
  const port = await freePort();
  const file = name === 'ceiling' ? 'ceiling-server.ts' : 'nest-server.ts';
  const args = name === 'ceiling' ? [String(port)] : [name, String(port), redisUrl];
  // tsx as a loader, not a wrapper: the pid is the server's, for CPU and RSS.
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', join(projectRoot(), 'bench/servers', file), ...args],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: projectRoot() },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  await waitReady(address);
  const stop = () => (child.kill('SIGTERM'), exited);
  return { name, address, pid: child.pid!, stop };
}

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

async function measure(server: Server, concurrency: number, options: MeasureOptions) {
  const cpuBefore = cpuSeconds(server.pid);
  const [report, rss] = await sampleRss(
    server.pid,
    ghz(server.address, concurrency, options.seconds, options.dataFile, options.connections),
  );
  const ok = report.statusCodeDistribution?.OK ?? 0;
  return {
    rps: report.rps,
    p50Ms: percentile(report, 50),
    p99Ms: percentile(report, 99),
    errors: report.count - ok,
    count: report.count,
    serverRssMb: rss,
    serverCpuUs: ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / Math.max(1, ok),
  };
}

interface MeasureOptions {
  seconds: number;
  dataFile: string;
  connections?: number;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Every server warmed, then at every concurrency, `rounds` times (odd rounds in reverse order); medians. */
export async function measureRounds(
  servers: Server[],
  options: MeasureOptions & { concurrencies: number[]; rounds: number },
): Promise<Point[]> {
  const samples = new Map<string, Array<Awaited<ReturnType<typeof measure>>>>();
  // Unrecorded: each server's first seconds under load are its JIT's, not its steady state.
  for (const server of servers) await measure(server, 16, options);
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const concurrency of options.concurrencies) {
      for (const server of order) {
        const point = await measure(server, concurrency, options);
        const key = `${server.name} c${concurrency}`;
        samples.set(key, [...(samples.get(key) ?? []), point]);
        console.log(
          `round ${round + 1} ${key}: ${point.rps.toFixed(0)} req/s, p99 ${point.p99Ms.toFixed(2)} ms, ${point.serverCpuUs.toFixed(0)} µs CPU/call`,
        );
      }
    }
  }
  return options.concurrencies.flatMap((concurrency) =>
    servers.map((server) => {
      const got = samples.get(`${server.name} c${concurrency}`)!;
      const mid = (field: keyof (typeof got)[number]) => median(got.map((p) => p[field]));
      return {
        name: `${server.name} c${concurrency}`,
        target: server.name,
        concurrency,
        rps: mid('rps'),
        p50Ms: mid('p50Ms'),
        p99Ms: mid('p99Ms'),
        errors: got.reduce((sum, p) => sum + p.errors, 0),
        count: got.reduce((sum, p) => sum + p.count, 0),
        serverRssMb: Math.max(...got.map((p) => p.serverRssMb)),
        serverCpuUs: mid('serverCpuUs'),
      };
    }),
  );
}

/** The medians of `measureRounds` as table rows. */
export const pointRows = (points: Point[]) =>
  points.map((r) => ({
    scenario: r.name,
    'req/s': r.rps.toFixed(0),
    'p50 ms': r.p50Ms.toFixed(2),
    'p99 ms': r.p99Ms.toFixed(2),
    errors: r.errors,
    'server RSS MB (max)': r.serverRssMb.toFixed(0),
    'server CPU µs/call': r.serverCpuUs.toFixed(0),
  }));

/** Each server's throughput and p99 against another's, per concurrency. */
export function ratiosTo(points: Point[], pairs: Array<[string, string]>) {
  const concurrencies = [...new Set(points.map((p) => p.concurrency))];
  return concurrencies.flatMap((concurrency) =>
    pairs.flatMap(([a, b]) => {
      const get = (target: string) =>
        points.find((p) => p.target === target && p.concurrency === concurrency);
      const [x, y] = [get(a), get(b)];
      if (!x || !y) return [];
      return [
        {
          concurrency,
          pair: `${a} / ${b}`,
          throughput: Number((x.rps / y.rps).toFixed(2)),
          p99: Number((x.p99Ms / y.p99Ms).toFixed(2)),
          'CPU/call': Number((x.serverCpuUs / y.serverCpuUs).toFixed(2)),
        },
      ];
    }),
  );
}
