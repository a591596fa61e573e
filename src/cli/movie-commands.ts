import type { Command } from 'commander';
import { CacheStatus } from '../generated/client/movies/v1/movie_service';
import { int, num, type CliContext } from './cli-context';
import { movieTable, statsTable } from './report';

interface Lookup {
  id?: string;
  title?: string;
  year?: number;
}

const withLookup = (command: Command) =>
  command
    .option('--id <id>', 'movie id (24 hex characters)')
    .option('--title <title>', 'exact title')
    .option('--year <year>', 'narrows a title lookup', int);

/** get, update-rating and stats. */
export function addMovieCommands(program: Command, cli: CliContext): void {
  withLookup(program.command('get').description('GetMovie: read through the cache')).action(
    (options: Lookup) =>
      cli.withClient(async (api) => {
        const response = await api.getMovie(options);
        cli.output(
          cli.json()
            ? JSON.stringify(response, null, 2)
            : movieTable(response.movie!, CacheStatus[response.cacheStatus]),
        );
      }),
  );

  withLookup(
    program
      .command('update-rating')
      .description('UpdateRating: write-through update of imdb.rating'),
  )
    .requiredOption('--rating <rating>', '0.0 to 10.0', num)
    .action((options: Lookup & { rating: number }) =>
      cli.withClient(async (api) => {
        const response = await api.updateRating(options);
        cli.output(
          cli.json()
            ? JSON.stringify(response, null, 2)
            : `${movieTable(response.movie!)}\ncache refreshed: ${response.cacheRefreshed}`,
        );
      }),
    );

  program
    .command('stats')
    .description('GetCacheStats: counters and dependency status')
    .action(() =>
      cli.withClient(async (api) => {
        const stats = await api.getCacheStats();
        cli.output(cli.json() ? JSON.stringify(stats, null, 2) : statsTable(stats));
      }),
    );
}
