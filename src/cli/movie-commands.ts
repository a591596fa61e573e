import type { Command } from 'commander';
import { CacheStatus } from '../generated/client/movies/v1/movie_service';
import { int, num, type CliContext } from './cli-context';
import { batchTable, movieTable, statsTable } from './report';

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

/**
 * --id and --title, each repeatable, in the order given; --year narrows the title before it (with
 * one lookup, that lookup wherever it stands).
 */
function withLookups(command: Command): { command: Command; lookups: () => Lookup[] } {
  const lookups: Lookup[] = [];
  let year: number | undefined;
  command
    .option('--id <id>', 'movie id (24 hex characters); repeat for a batch', (id: string) => {
      lookups.push({ id });
      return id;
    })
    .option('--title <title>', 'exact title; repeat for a batch', (title: string) => {
      lookups.push({ title });
      return title;
    })
    .option('--year <year>', 'narrows the title before it', (value: string) => {
      year = int(value);
      if (lookups.length > 0) lookups[lookups.length - 1].year = year;
      return year;
    });
  return {
    command,
    lookups: () =>
      lookups.length === 1 && year !== undefined ? [{ ...lookups[0], year }] : lookups,
  };
}

/** get, update-rating and stats. */
export function addMovieCommands(program: Command, cli: CliContext): void {
  const get = withLookups(
    program
      .command('get')
      .description('GetMovie: read through the cache; several lookups: one BatchGetMovies'),
  );
  get.command.action(() =>
    cli.withClient(async (api) => {
      const lookups = get.lookups();
      if (lookups.length > 1) {
        const response = await api.batchGetMovies({ lookups });
        cli.output(
          cli.json() ? JSON.stringify(response, null, 2) : batchTable(lookups, response.results),
        );
        return;
      }
      const response = await api.getMovie(lookups[0] ?? {});
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
