/**
 * npm run bench -- --scenario profile [--seconds 10] [--concurrency 16]
 *   [--target near|redis|floor|peer|ceiling]: one server under ghz with --cpu-prof, then its top
 * frames by self time and by where they live (src/, NestJS, grpc-js, ...), in µs per call.
 * Writes the profile to bench/results/.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/common/paths';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { firstIds } from './fleet';
import { ghz, percentile } from './ghz';
import { SERVICE_HEAP, heapFlags, startComparisonServer } from './hits';
import { CONSTANT_MOVIE } from './servers/constant-movie';
import { hotCacheEnv, startService } from './service';

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

/** Self samples taken within [from, to] µs before the profile's end, by frame and by area, as µs per call. */
export function summarize(
  profile: Profile,
  window: { from: number; to: number },
  calls: number,
  top = 25,
) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  let counted = 0;
  let at = profile.endTime - profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  for (const [i, id] of profile.samples.entries()) {
    const delta = profile.timeDeltas[i];
    at += delta;
    const before = profile.endTime - at;
    if (before > window.from || before < window.to) continue;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    counted += delta;
    const file = url.replace(/^file:\/\/.*?(node_modules\/|dist\/|bench\/)/, '$1');
    const frame = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    frames.set(frame, (frames.get(frame) ?? 0) + delta);
    const area = functionName === '(garbage collector)' ? 'garbage collection' : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + delta);
  }
  const share = (us: number) => `${((100 * us) / counted).toFixed(1)}%`;
  const perCall = (us: number) => Number((us / calls).toFixed(1));
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    frames: sorted(frames)
      .slice(0, top)
      .map(([frame, us]) => ({ 'self time': share(us), 'µs/call': perCall(us), frame })),
    areas: [
      ...sorted(areas).map(([area, us]) => ({
        area,
        'self time': share(us),
        'µs/call': perCall(us),
      })),
      { area: 'all (sampled, busy)', 'self time': '100%', 'µs/call': perCall(counted) },
    ],
  };
}

type Target = 'near' | 'redis' | 'floor' | 'peer' | 'ceiling';
const TARGETS: Target[] = ['near', 'redis', 'floor', 'peer', 'ceiling'];
const COMPARISON: Target[] = ['floor', 'peer', 'ceiling'];

/** The service (near-cache or Redis hits) or a comparison server, writing its profile to `dir`. */
async function startProfiled(
  target: Target,
  stack: { mongoUri?: string; redisUrl?: string },
  dir: string,
): Promise<{ address: string; stop(): Promise<void> }> {
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  if (target === 'floor' || target === 'peer' || target === 'ceiling')
    return startComparisonServer(target, stack.redisUrl, [...heapFlags(SERVICE_HEAP), ...flags]);
  return startService(
    hotCacheEnv(stack, {
      NEAR_CACHE: target === 'near' ? 'on' : 'off',
      NODE_OPTIONS: flags.join(' '),
    }),
  );
}

export async function profileScenario(options: {
  seconds: number;
  concurrency: number;
  target: string;
}) {
  const target = options.target as Target;
  if (!TARGETS.includes(target)) throw new Error(`--target is one of ${TARGETS.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const stack = await startEmbeddedStack({ dataDir: dir, redis: true, mongo: true });
  const profiles = join(dir, 'profiles');
  let window: { from: number; to: number } | undefined;
  let calls: number | undefined;
  try {
    const service = await startProfiled(target, stack, profiles);
    // The comparison servers answer one constant movie, whatever the id.
    const ids = COMPARISON.includes(target)
      ? [CONSTANT_MOVIE.id]
      : await firstIds(stack.mongoUri!, 20);
    const dataFile = join(dir, 'ids.json');
    writeFileSync(dataFile, JSON.stringify(ids.map((id) => ({ id }))));
    await ghz(service.address, 1, { requests: ids.length }, dataFile);
    const started = Date.now();
    const report = await ghz(service.address, options.concurrency, options.seconds, dataFile, 4);
    const ended = Date.now();
    calls = report.count;
    console.log(
      `${target} c${options.concurrency}: ${report.rps.toFixed(0)} req/s, p99 ${percentile(report, 99).toFixed(2)} ms`,
    );
    await service.stop();
    // The load's window, in µs before the process ended (and wrote its profile).
    window = { from: (Date.now() - started) * 1000, to: (Date.now() - ended) * 1000 };
  } finally {
    await stack.stop();
  }
  const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`${target} wrote no profile`);
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile;
  const saved = join(projectRoot(), 'bench/results', `profile-${target}.cpuprofile`);
  writeFileSync(saved, JSON.stringify(profile));
  const { frames, areas } = summarize(profile, window ?? { from: Infinity, to: 0 }, calls ?? 1);
  console.table(areas);
  console.table(frames);
  console.log(`wrote ${saved} (open it in Chrome DevTools' Performance panel)`);
}
