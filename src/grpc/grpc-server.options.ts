import { Server, ServerCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import { HEALTH_PROTO_PATH, MOVIE_PROTO_PATH } from '../common/paths';
import type { AppConfig } from '../config/app-config';
import { MOVIES_V1_PACKAGE_NAME } from '../generated/nest/movies/v1/movie_service';
import { connectionLimitOptions, enforceConnectionLimits } from './connection-limits';
import { CHANNEL_OPTIONS, LOADER_OPTIONS } from './grpc-channel';
import { encodeFrozenResponsesOnce } from './frozen-responses';
import { tolerateMalformedRequestsOf } from './malformed-request';
import { addReflection } from './reflection';

/** Filled with the grpc-js server once Nest creates it, for a forced stop after the grace period. */
export interface GrpcServerRef {
  server?: Server;
}

/** The one gRPC server options factory: MovieService, plus health and reflection on the same server. */
export function grpcServerOptions(
  config: AppConfig,
  health: HealthImplementation,
  ref: GrpcServerRef = {},
  /** Runs first on the grpc-js server, before any service is added to it. */
  prepare: (server: Server) => void = () => undefined,
): GrpcOptions {
  const { host, port, tls } = config.grpc;
  return {
    transport: Transport.GRPC,
    options: {
      url: `${host}:${port}`,
      package: MOVIES_V1_PACKAGE_NAME,
      protoPath: MOVIE_PROTO_PATH,
      loader: LOADER_OPTIONS,
      credentials: tls
        ? ServerCredentials.createSsl(null, [
            { cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) },
          ])
        : ServerCredentials.createInsecure(),
      channelOptions: {
        ...CHANNEL_OPTIONS,
        ...connectionLimitOptions(config.grpc),
        // Channelz's trackers cost every call ~2 µs; no channelz service is served.
        'grpc.enable_channelz': 0,
      },
      gracefulShutdown: true,
      onLoadPackageDefinition: (definition, server) => {
        ref.server = server as Server;
        enforceConnectionLimits(server as Server, config.grpc);
        prepare(server as Server);
        tolerateMalformedRequestsOf(server as Server);
        encodeFrozenResponsesOnce(definition);
        // keepCase: reflection must publish the proto's own field names (snake_case).
        const described = protoLoader.loadSync([MOVIE_PROTO_PATH, HEALTH_PROTO_PATH], {
          ...LOADER_OPTIONS,
          keepCase: true,
        });
        addReflection(server as Server, described);
        health.addToServer(server);
      },
    },
  };
}
