/**
 * npm run bench -- --scenario tracing [--seconds 6] [--rounds 4] [--build before=<dir>]: what
 * traces cost near-cache hits. The same build with tracing off, sampling 1% and sampling every
 * call (spans exported over OTLP/HTTP to a local sink), and optionally an earlier build, side by
 * side on one embedded stack, rounds alternating; medians and ratios to tracing off.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../src/stack/embedded-stack';
import type { NamedBuild } from './compare-builds';
import { firstIds } from './fleet';
import { ghz } from './ghz';
import { measureRounds, pointRows, ratiosTo, type Server } from './hits';
import { hotCacheEnv, startService, type RunningService } from './service';

/** An OTLP/HTTP endpoint that takes every export and keeps only the byte count. */
async function otlpSink() {
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export async function tracingScenario(options: {
  seconds: number;
  rounds: number;
  builds: NamedBuild[];
  keys: number;
}): Promise<void> {
  const stack = await startEmbeddedStack({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-tracing-')),
    redis: true,
    mongo: true,
  });
  const sink = await otlpSink();
  const sampled = (ratio: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: ratio,
  });
  const services: Array<RunningService & { name: string }> = [];
  try {
    // One after the other: the first imports the bundled movies.
    for (const [name, env] of [
      ['off', {}],
      ['sampled-1%', sampled('0.01')],
      ['sampled-100%', sampled('1')],
    ] as const)
      services.push({ ...(await startService(hotCacheEnv(stack, env))), name });
    for (const build of options.builds)
      services.push({ ...(await startService(hotCacheEnv(stack), build)), name: build.label });

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
    console.log(`spans exported: ${(sink.bytes() / 1024).toFixed(0)} KiB of OTLP/protobuf`);
  } finally {
    for (const service of services) await service.stop();
    await sink.close();
    await stack.stop();
  }
}
