import { readFileSync } from 'node:fs';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Command } from 'commander';
import { MovieApi } from '../grpc/movie-api';
import { addBenchmarkCommand } from './benchmark-command';
import type { CliContext } from './cli-context';
import { addMovieCommands } from './movie-commands';
import { addTrendingCommand } from './trending-command';

interface Globals {
  address: string;
  token?: string;
  ca?: string;
  tlsServerName?: string;
  json?: boolean;
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
    .option(
      '--tls-server-name <name>',
      'TLS: the name to verify the certificate against (needed when --address is an IP address)',
    )
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError();

  const cli: CliContext = {
    output,
    json: () => program.opts<Globals>().json === true,
    withClient: async (call) => {
      const { address, token, ca, tlsServerName } = program.opts<Globals>();
      const tls = ca ? { ca: readFileSync(ca), serverName: tlsServerName } : undefined;
      const api = MovieApi.connect(address, token, tls);
      try {
        return await call(api);
      } finally {
        api.close();
      }
    },
  };
  addMovieCommands(program, cli);
  addTrendingCommand(program, cli);
  addBenchmarkCommand(program, cli);
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
