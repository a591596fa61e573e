import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pidusage from 'pidusage';
import { MOVIE_PROTO_PATH, projectRoot } from '../src/common/paths';
import { sleep } from '../src/common/sleep';

const GHZ = join(projectRoot(), '.tools/bin/ghz');

export interface GhzReport {
  rps: number;
  count: number;
  latencyDistribution: Array<{ percentage: number; latency: number }> | null;
  statusCodeDistribution: Record<string, number>;
}

/** Max RSS of a process while work runs, sampled every 250 ms. */
export async function sampleRss<T>(pid: number, work: Promise<T>): Promise<[T, number]> {
  let max = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      max = Math.max(max, (await pidusage(pid).catch(() => ({ memory: 0 }))).memory);
      await sleep(250);
    }
  })();
  const result = await work.finally(() => (done = true));
  await sampler;
  return [result, max / 1024 / 1024];
}

/** GetMovie (or `method`) under ghz for a number of seconds, or for exactly `{ requests }` calls. */
export async function ghz(
  address: string,
  concurrency: number,
  length: number | { requests: number },
  dataFile: string,
  connections = Math.min(concurrency, 8),
  method = 'GetMovie',
): Promise<GhzReport> {
  const amount =
    typeof length === 'number'
      ? ['-z', `${length}s`, '--duration-stop', 'wait']
      : ['-n', String(length.requests)];
  const { stdout } = await promisify(execFile)(
    GHZ,
    [
      '--insecure',
      '--proto',
      MOVIE_PROTO_PATH,
      '--call',
      `movies.v1.MovieService/${method}`,
      '--data-file',
      dataFile,
      '-c',
      String(concurrency),
      '--connections',
      String(connections),
      ...amount,
      '-O',
      'json',
      address,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as GhzReport;
}

export const percentile = (report: GhzReport, p: number) =>
  (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / 1e6;
