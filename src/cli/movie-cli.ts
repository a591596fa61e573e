import { readFileSync, writeFileSync } from 'node:fs';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  CacheStatus,
  Distribution,
  StreamTrendingResponse,
  type RunBenchmarkRequest,
} from '../generated/client/movies/v1/movie_service';
import { MovieApi } from '../grpc/movie-api';
import { benchmarkReport, movieTable, statsTable, trendingTable } from './report';

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};
const num = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
};
const DISTRIBUTIONS: Record<string, Distribution> = {
  pareto: Distribution.DISTRIBUTION_PARETO_80_20,
  zipf: Distribution.DISTRIBUTION_ZIPF,
  uniform: Distribution.DISTRIBUTION_UNIFORM,
};

interface Globals {
  address: string;
  token?: string;
  ca?: string;
  json?: boolean;
}

interface Lookup {
  id?: string;
  title?: string;
  year?: number;
}

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

/** The CLI: a MovieService client on the generated stubs. */
export function buildCli(output: (text: string) => void = console.log): Command {
  const program = new Command('movie-cli')
    .description('MovieService client (gRPC)')
    .option(
      '-a, --address <host:port>',
      'server address',
      process.env.MOVIE_SERVICE_ADDR ?? 'localhost:50051',
    )
    .option(
      '-t, --token <token>',
      'admin token for update-rating and benchmark (default: $ADMIN_TOKEN)',
      process.env.ADMIN_TOKEN,
    )
    .option(
      '--ca <pem>',
      'TLS: trust this CA or self-signed server certificate (default: plaintext)',
    )
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError();

  const api = () => {
    const { address, token, ca } = program.opts<Globals>();
    return MovieApi.connect(address, token, ca ? { ca: readFileSync(ca) } : undefined);
  };
  const json = () => program.opts<Globals>().json === true;
  const withLookup = (command: Command) =>
    command
      .option('--id <id>', 'movie id (24 hex characters)')
      .option('--title <title>', 'exact title')
      .option('--year <year>', 'narrows a title lookup', int);

  withLookup(program.command('get').description('GetMovie: read through the cache')).action(
    async (options: Lookup) => {
      const client = api();
      try {
        const response = await client.getMovie(options);
        output(
          json()
            ? JSON.stringify(response, null, 2)
            : movieTable(response.movie!, CacheStatus[response.cacheStatus]),
        );
      } finally {
        client.close();
      }
    },
  );

  withLookup(
    program
      .command('update-rating')
      .description('UpdateRating: write-through update of imdb.rating'),
  )
    .requiredOption('--rating <rating>', '0.0 to 10.0', num)
    .action(async (options: Lookup & { rating: number }) => {
      const client = api();
      try {
        const response = await client.updateRating(options);
        output(
          json()
            ? JSON.stringify(response, null, 2)
            : `${movieTable(response.movie!)}\ncache refreshed: ${response.cacheRefreshed}`,
        );
      } finally {
        client.close();
      }
    });

  program
    .command('trending')
    .description('StreamTrending: the most viewed movies')
    .option('--limit <n>', '1 to 100', int, 10)
    .option('--window <seconds>', '0 = all time, else the last N seconds', int, 0)
    .option('--interval <ms>', 'how often the ranking is checked', int, 1000)
    .option('--follow', 'keep printing each new snapshot until interrupted')
    .action(
      async (options: { limit: number; window: number; interval: number; follow?: boolean }) => {
        const client = api();
        const stream = client.streamTrending({
          limit: options.limit,
          windowSeconds: options.window,
          intervalMs: options.interval,
        });
        await new Promise<void>((resolve, reject) => {
          const stop = () => stream.cancel();
          process.once('SIGINT', stop);
          stream.on('data', (snapshot: StreamTrendingResponse) => {
            output(
              json()
                ? JSON.stringify(snapshot)
                : trendingTable(snapshot.entries, snapshot.generatedAtUnixMs),
            );
            if (!options.follow) stream.cancel();
          });
          stream.on('error', (error: ServiceError) =>
            error.code === status.CANCELLED ? resolve() : reject(error),
          );
          stream.on('end', () => resolve());
          stream.on('close', () => process.off('SIGINT', stop));
        }).finally(() => client.close());
      },
    );

  program
    .command('stats')
    .description('GetCacheStats: counters and dependency status')
    .action(async () => {
      const client = api();
      try {
        const stats = await client.getCacheStats();
        output(json() ? JSON.stringify(stats, null, 2) : statsTable(stats));
      } finally {
        client.close();
      }
    });

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
    .action(async (options) => {
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
      const client = api();
      try {
        const report = await withProgress('running benchmark', client.runBenchmark(request));
        if (options.out)
          writeFileSync(options.out as string, JSON.stringify(report, null, 2) + '\n');
        output(json() ? JSON.stringify(report, null, 2) : benchmarkReport(report));
      } finally {
        client.close();
      }
    });

  return program;
}

/** Runs the CLI; gRPC errors become one line on stderr and exit code 1. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    const e = error as ServiceError;
    console.error(
      e.code !== undefined ? `error: ${status[e.code]}: ${e.details}` : `error: ${e.message}`,
    );
    process.exitCode = 1;
  }
}
