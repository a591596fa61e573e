/**
 * npm run bench -- --scenario stalled [--streams 200] [--seconds 20] [--rounds 3] [--build a=<dir>]
 * (builds as in --scenario builds): server RSS growth per StreamTrending stream whose client
 * stopped reading, beside the same number of streams that read. GetMovie traffic changes the
 * top-100 ranking every 100 ms tick. Each phase runs on a fresh server process (RSS once grown is
 * not given back); medians of rounds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, Metadata, credentials, status } from '@grpc/grpc-js';
import pidusage from 'pidusage';
import { sleep } from '../src/common/sleep';
import { StreamTrendingRequest } from '../src/generated/client/movies/v1/movie_service';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import { freePort } from '../src/stack/free-port';
import { firstIds } from './fleet';
import { median } from './hits';
import { hotCacheEnv, startService, THIS_BUILD, type Build, type RunningService } from './service';

const METHOD = '/movies.v1.MovieService/StreamTrending';
const REQUEST = Buffer.from(
  StreamTrendingRequest.encode({
    limit: 100,
    windowSeconds: 0,
    intervalMs: 100,
    includeMovies: false,
  }).finish(),
);
const WARM_MS = 8_000;
const SAMPLES = 5;
const SAMPLE_MS = 500;

type Mode = 'reading' | 'stalled';

/**
 * A stream on grpc-js's low-level call, one message per startRead: a reading one asks for every
 * message; a stalled one takes the first and stops, held at HTTP/2 flow control.
 */
function openStream(channel: Channel, mode: Mode) {
  const call = channel.createCall(METHOD, Infinity, null, null, null);
  const stream = { received: 0, cancel: () => call.cancelWithStatus(status.CANCELLED, 'done') };
  call.start(new Metadata(), {
    onReceiveMetadata: () => undefined,
    onReceiveMessage: () => {
      stream.received += 1;
      if (mode === 'reading') call.startRead();
    },
    onReceiveStatus: () => undefined,
  });
  call.sendMessageWithContext({}, REQUEST);
  call.halfClose();
  call.startRead();
  return stream;
}

/** Median RSS (bytes) of SAMPLES samples, SAMPLE_MS apart. */
async function rss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    samples.push((await pidusage(pid)).memory);
    await sleep(SAMPLE_MS);
  }
  return median(samples);
}

/** Snapshots the server replaced before sending them (absent from builds without the counter). */
async function replacedSnapshots(metricsPort: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const match = /^movie_trending_snapshots_replaced_total (\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

async function phase(
  service: RunningService & { metricsPort: number },
  mode: Mode,
  ids: string[],
  streams: number,
  seconds: number,
) {
  let traffic = true;
  const views = (async () => {
    for (let i = 0; traffic; i += 1) {
      await service.api.getMovie({ id: ids[i % ids.length] });
      await sleep(5);
    }
  })();
  await sleep(WARM_MS);
  const before = await rss(service.pid);
  const channel = new Channel(service.address, credentials.createInsecure(), {});
  const opened = Array.from({ length: streams }, () => openStream(channel, mode));
  await sleep(seconds * 1000 - SAMPLES * SAMPLE_MS);
  const open = (await service.api.getCacheStats()).trendingStreams;
  const after = await rss(service.pid);
  const replaced = await replacedSnapshots(service.metricsPort);
  opened.forEach((stream) => stream.cancel());
  channel.close();
  traffic = false;
  await views;
  const received = opened.reduce((sum, stream) => sum + stream.received, 0);
  return {
    kbPerStream: (after - before) / streams / 1024,
    open,
    received: received / streams,
    replaced: replaced === undefined ? undefined : replaced / streams,
  };
}

interface Options {
  streams: number;
  seconds: number;
  rounds: number;
  builds: Array<Build & { label: string }>;
}

interface Point {
  build: string;
  mode: Mode;
  kbPerStream: number;
  open: number;
  received: number;
  replaced?: number;
}

export async function stalledScenario(options: Options): Promise<void> {
  const builds = options.builds.length ? options.builds : [{ label: 'this build', ...THIS_BUILD }];
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-stalled-')),
    redis: true,
    mongo: true,
  });
  const env = hotCacheEnv(stack, {
    TRENDING_MAX_STREAMS: String(Math.max(1_000, options.streams)),
    TRENDING_MAX_STREAMS_PER_PEER: String(options.streams),
    VIEW_FLUSH_MS: '50',
  });
  const points: Point[] = [];
  let ids: string[] | undefined;
  try {
    for (let round = 0; round < options.rounds; round += 1) {
      for (const build of builds) {
        const modes: Mode[] = round % 2 ? ['stalled', 'reading'] : ['reading', 'stalled'];
        for (const mode of modes) {
          const metricsPort = await freePort();
          const service = await startService({ ...env, METRICS_PORT: String(metricsPort) }, build);
          try {
            ids ??= await firstIds(stack.mongoUri!, 300);
            const point = await phase(
              { ...service, metricsPort },
              mode,
              ids,
              options.streams,
              options.seconds,
            );
            points.push({ build: build.label, mode, ...point });
          } finally {
            await service.stop();
          }
        }
      }
    }
  } finally {
    await stack.stop();
  }
  report(points, builds, options);
}

function report(points: Point[], builds: Array<{ label: string }>, options: Options): void {
  console.log(
    `\nStreamTrending, ${options.streams} streams (limit 100, interval 100 ms) for ${options.seconds} s, ranking changing every tick; server RSS growth, medians of ${options.rounds} rounds`,
  );
  const perStream = (label: string, mode: Mode) =>
    points.filter((p) => p.build === label && p.mode === mode);
  console.table(
    builds.flatMap(({ label }) =>
      (['reading', 'stalled'] as const).map((mode) => {
        const mine = perStream(label, mode);
        const replaced = mine.map((p) => p.replaced).filter((r) => r !== undefined);
        return {
          build: label,
          streams: mode,
          'RSS growth KB / stream': median(mine.map((p) => p.kbPerStream)).toFixed(1),
          'by round': mine.map((p) => p.kbPerStream.toFixed(0)).join(' '),
          'open (server)': median(mine.map((p) => p.open)),
          'snapshots received / stream': median(mine.map((p) => p.received)).toFixed(0),
          'replaced / stream': replaced.length ? median(replaced).toFixed(0) : '-',
        };
      }),
    ),
  );
  for (const { label } of builds) {
    const growth = (mode: Mode) => median(perStream(label, mode).map((p) => p.kbPerStream));
    console.log(
      `${label}: stalled − reading ${(growth('stalled') - growth('reading')).toFixed(1)} KB / stream`,
    );
  }
}
