/**
 * The ceiling: a bare @grpc/grpc-js server answering GetMovie with one constant in-memory movie,
 * through the same proto loader. Nothing of the service (Nest, Redis, MongoDB) is on its path.
 * Usage: node --import tsx bench/servers/ceiling-server.ts <port>
 */
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MOVIE_PROTO_PATH } from '../../src/common/paths';
import { LOADER_OPTIONS } from '../../src/grpc/grpc-channel';
import { CONSTANT_MOVIE } from './constant-movie';

const definition = loadPackageDefinition(
  protoLoader.loadSync(MOVIE_PROTO_PATH, LOADER_OPTIONS),
) as unknown as {
  movies: { v1: { MovieService: { service: ServiceDefinition } } };
};
const server = new Server();
server.addService(definition.movies.v1.MovieService.service, {
  getMovie: (_call: unknown, callback: (error: null, response: unknown) => void) =>
    callback(null, { movie: CONSTANT_MOVIE, cacheStatus: 1 }),
});
server.bindAsync(`127.0.0.1:${process.argv[2]}`, ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  console.log('ceiling server ready');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
