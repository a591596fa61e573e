import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import {
  Distribution,
  type RunBenchmarkRequest,
} from '../generated/client/movies/v1/movie_service';
import { int, num, type CliContext } from './cli-context';
import { benchmarkReport } from './report';

const DISTRIBUTIONS: Record<string, Distribution> = {
  pareto: Distribution.DISTRIBUTION_PARETO_80_20,
  zipf: Distribution.DISTRIBUTION_ZIPF,
  uniform: Distribution.DISTRIBUTION_UNIFORM,
};

/** Shows elapsed time on stderr while a long call runs (only on a terminal). */
async function withProgress<T>(label: string, work: Promise<T>): Promise<T> {
  if (!process.stderr.isTTY) return work;
  const started = Date.now();
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  let frame = 0;
  const timer = setInterval(() => {
    process.stderr.write(
      `\r${frames[frame++ % frames.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 100);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    process.stderr.write('\r\x1b[K');
  }
}

/** benchmark: RunBenchmark, printed as the study's report. */
export function addBenchmarkCommand(program: Command, cli: CliContext): void {
  program
    .command('benchmark')
    .description(
      "RunBenchmark: the study's experiment (default: 500 requests over 100 movies, 80/20, cold)",
    )
    .option('--requests <n>', 'number of lookups', int, 500)
    .option('--concurrency <n>', 'parallel callers', int, 1)
    .option('--key-space <n>', 'distinct movies drawn from', int, 100)
    .addOption(
      new Option('--distribution <name>', 'request distribution')
        .choices(Object.keys(DISTRIBUTIONS))
        .default('pareto'),
    )
    .option('--zipf-exponent <s>', 'for zipf', num, 1)
    .option('--seed <n>', 'same seed, same sequence (0 picks one)', int, 0)
    .option('--warm', 'keep cached movies (default: evict the key space first)')
    .option('--compare-uncached', 'also replay the sequence straight against MongoDB')
    .option('--out <file>', 'also write the report as JSON to this file')
    .action((options) =>
      cli.withClient(async (api) => {
        const request: Partial<RunBenchmarkRequest> = {
          requests: options.requests,
          concurrency: options.concurrency,
          keySpace: options.keySpace,
          distribution: DISTRIBUTIONS[options.distribution as string],
          zipfExponent: options.zipfExponent,
          seed: options.seed,
          warmStart: options.warm === true,
          compareUncached: options.compareUncached === true,
        };
        const report = await withProgress('running benchmark', api.runBenchmark(request));
        if (options.out)
          writeFileSync(options.out as string, JSON.stringify(report, null, 2) + '\n');
        cli.output(cli.json() ? JSON.stringify(report, null, 2) : benchmarkReport(report));
      }),
    );
}
