/**
 * The ceiling: a bare @grpc/grpc-js server answering GetMovie with one constant in-memory movie,
 * through the same proto loader. Nothing of the service (Nest, Redis, MongoDB) is on its path.
 * Usage: tsx bench/ceiling-server.ts <port>
 */
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MOVIE_PROTO_PATH } from '../src/common/paths';
import { LOADER_OPTIONS } from '../src/grpc/grpc-channel';

const MOVIE = {
  id: '573a1390f29313caabcd42e8',
  title: 'The Great Train Robbery',
  year: 1903,
  plot: 'A group of bandits stage a brazen train hold-up, only to find a determined posse hot on their heels.',
  rating: 7.4,
  imdbVotes: 9847,
  genres: ['Short', 'Western'],
  directors: ['Edwin S. Porter'],
  cast: ['A.C. Abadie', "Gilbert M. 'Broncho Billy' Anderson", 'George Barnes', 'Justus D. Barnes'],
  runtimeMinutes: 11,
  revision: 0,
};

const definition = loadPackageDefinition(
  protoLoader.loadSync(MOVIE_PROTO_PATH, LOADER_OPTIONS),
) as unknown as {
  movies: { v1: { MovieService: { service: ServiceDefinition } } };
};
const server = new Server();
server.addService(definition.movies.v1.MovieService.service, {
  getMovie: (_call: unknown, callback: (error: null, response: unknown) => void) =>
    callback(null, { movie: MOVIE, cacheStatus: 1 }),
});
server.bindAsync(`127.0.0.1:${process.argv[2]}`, ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  console.log('ceiling server ready');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
