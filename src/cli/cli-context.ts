import { InvalidArgumentError } from 'commander';
import type { MovieApi } from '../grpc/movie-api';

/** What every command needs: a connected client for one call, and where and how to print. */
export interface CliContext {
  output(text: string): void;
  json(): boolean;
  /** Connects, runs `call`, closes. */
  withClient<T>(call: (api: MovieApi) => Promise<T>): Promise<T>;
}

export const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};

export const num = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
};
