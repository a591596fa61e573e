import {
  ChannelOptions,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import { HEALTH_PROTO_PATH, MOVIE_PROTO_PATH } from '../common/paths';
import type { AppConfig } from '../config/app-config';
import {
  MOVIES_V1_PACKAGE_NAME,
  MOVIE_SERVICE_NAME,
} from '../generated/nest/movies/v1/movie_service';
import { MovieServiceClient } from '../generated/client/movies/v1/movie_service';
import { tolerateMalformedRequests } from './malformed-request';

export const MOVIE_SERVICE_FULL_NAME = `${MOVIES_V1_PACKAGE_NAME}.${MOVIE_SERVICE_NAME}`;

/** 4 MiB each way: far above any movie, small enough to refuse abuse. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
};

const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
};

/** The one gRPC server options factory: MovieService, plus health and reflection on the same server. */
/** Filled with the grpc-js server once Nest creates it, for a forced stop after the grace period. */
export interface GrpcServerRef {
  server?: Server;
}

export function grpcServerOptions(
  config: AppConfig,
  health: HealthImplementation,
  ref: GrpcServerRef = {},
  interceptors: ServerInterceptor[] = [],
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
      // Nest hands channelOptions to the grpc-js Server constructor, which also takes interceptors.
      channelOptions: { ...CHANNEL_OPTIONS, interceptors } as ChannelOptions,
      gracefulShutdown: true,
      onLoadPackageDefinition: (definition, server) => {
        ref.server = server as Server;
        tolerateMalformedRequests(definition);
        // keepCase: reflection must publish the proto's own field names (snake_case).
        const described = protoLoader.loadSync([MOVIE_PROTO_PATH, HEALTH_PROTO_PATH], {
          ...LOADER_OPTIONS,
          keepCase: true,
        });
        new ReflectionService(described).addToServer(server);
        health.addToServer(server);
      },
    },
  };
}

export interface ClientTls {
  /** PEM of the CA (or the server's self-signed certificate) to trust. */
  ca: Buffer;
  /** Skip the host name check (the server's own loopback connection). */
  anyHostName?: boolean;
}

/** A MovieService client on the generated stubs (tests, CLI, benchmark runner). */
export function createMovieClient(address: string, tls?: ClientTls): MovieServiceClient {
  const channel = tls
    ? credentials.createSsl(
        tls.ca,
        null,
        null,
        tls.anyHostName ? { checkServerIdentity: () => undefined } : {},
      )
    : credentials.createInsecure();
  return new MovieServiceClient(address, channel, CHANNEL_OPTIONS);
}

/** Bearer metadata for admin RPCs; empty metadata without a token. */
export function authMetadata(token?: string): Metadata {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
