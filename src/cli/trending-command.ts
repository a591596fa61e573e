import { status, type ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import type { StreamTrendingResponse } from '../generated/client/movies/v1/movie_service';
import { int, type CliContext } from './cli-context';
import { trendingTable } from './report';

interface TrendingOptions {
  limit: number;
  window: number;
  interval: number;
  follow?: boolean;
  movies?: boolean;
}

/** trending [--follow]: one snapshot, or each new one until Ctrl-C. */
export function addTrendingCommand(program: Command, cli: CliContext): void {
  program
    .command('trending')
    .description('StreamTrending: the most viewed movies')
    .option('--limit <n>', '1 to 100', int, 10)
    .option('--window <seconds>', '0 = all time, else the last N seconds', int, 0)
    .option('--interval <ms>', 'how often the ranking is checked', int, 1000)
    .option('--follow', 'keep printing each new snapshot until interrupted')
    .option('--movies', 'each entry with its movie (include_movies)')
    .action((options: TrendingOptions) =>
      cli.withClient(async (api) => {
        const stream = api.streamTrending({
          limit: options.limit,
          windowSeconds: options.window,
          intervalMs: options.interval,
          includeMovies: options.movies === true,
        });
        await new Promise<void>((resolve, reject) => {
          const stop = () => stream.cancel();
          process.once('SIGINT', stop);
          stream.on('data', (snapshot: StreamTrendingResponse) => {
            cli.output(
              cli.json()
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
        });
      }),
    );
}
