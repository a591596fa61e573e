/**
 * npm run bench -- --scenario profile [--seconds 10] [--concurrency 16] [--target near|redis]:
 * the service under ghz with --cpu-prof, then its top frames by self time, grouped by where they
 * live (our src/, NestJS, grpc-js, rxjs, Node). Writes the profile to bench/results/.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz, percentile } from './ghz';
import { startService } from './service';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  endTime: number;
}

const AREAS: Array<[string, RegExp]> = [
  ['this service (src/)', /\/dist\/src\//],
  ['NestJS', /node_modules\/@nestjs\//],
  ['grpc-js', /node_modules\/@grpc\//],
  ['rxjs', /node_modules\/rxjs\//],
  ['ioredis', /node_modules\/ioredis\//],
  ['protobufjs', /node_modules\/(@protobufjs|protobufjs)\//],
  ['prom-client', /node_modules\/prom-client\//],
  ['pino', /node_modules\/(pino|nestjs-pino|pino-http)\//],
  ['other packages', /node_modules\//],
  ['Node.js', /^node:|^$/],
];

const areaOf = (url: string) => AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other';

/** Self samples taken within [from, to] µs before the profile's end, by frame and by area. */
export function summarize(profile: Profile, window: { from: number; to: number }, top = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  let counted = 0;
  let at = profile.endTime - profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  for (const [i, id] of profile.samples.entries()) {
    at += profile.timeDeltas[i];
    const before = profile.endTime - at;
    if (before > window.from || before < window.to) continue;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    counted += 1;
    const file = url.replace(/^file:\/\/.*?(node_modules\/|dist\/)/, '$1');
    const frame = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    frames.set(frame, (frames.get(frame) ?? 0) + 1);
    const area = functionName === '(garbage collector)' ? 'garbage collection' : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + 1);
  }
  const share = (n: number) => `${((100 * n) / counted).toFixed(1)}%`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    frames: sorted(frames)
      .slice(0, top)
      .map(([frame, n]) => ({ 'self time': share(n), frame })),
    areas: sorted(areas).map(([area, n]) => ({ area, 'self time': share(n) })),
  };
}

export async function profileScenario(options: {
  seconds: number;
  concurrency: number;
  target: string;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const profiles = join(dir, 'profiles');
  let window: { from: number; to: number } | undefined;
  try {
    const service = await startService({
      MONGODB_URI: stack.mongoUri!,
      REDIS_URL: stack.redisUrl!,
      CACHE_TTL_SECONDS: '3600',
      NEAR_CACHE: options.target === 'near' ? 'on' : 'off',
      NEAR_CACHE_TTL_MS: '3600000',
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles}`,
    });
    const ids = await firstIds(stack.mongoUri!, 20);
    const dataFile = join(dir, 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
    await ghz(service.address, 1, { requests: ids.length }, dataFile);
    const started = Date.now();
    const report = await ghz(service.address, options.concurrency, options.seconds, dataFile, 4);
    const ended = Date.now();
    console.log(
      `${options.target} c${options.concurrency}: ${report.rps.toFixed(0)} req/s, p99 ${percentile(report, 99).toFixed(2)} ms`,
    );
    await service.stop();
    // The load's window, in µs before the process ended (and wrote its profile).
    window = { from: (Date.now() - started) * 1000, to: (Date.now() - ended) * 1000 };
  } finally {
    await stack.stop();
  }
  const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('the service wrote no profile');
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile;
  const saved = join(projectRoot(), 'bench/results', `profile-${options.target}.cpuprofile`);
  writeFileSync(saved, JSON.stringify(profile));
  const { frames, areas } = summarize(profile, window ?? { from: Infinity, to: 0 });
  console.table(areas);
  console.table(frames);
  console.log(`wrote ${saved} (open it in Chrome DevTools' Performance panel)`);
}
