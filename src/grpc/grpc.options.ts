import { ChannelOptions, Metadata, ServerCredentials, credentials } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import { HEALTH_PROTO_PATH, MOVIE_PROTO_PATH } from '../common/paths';
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
export function grpcServerOptions(url: string, health: HealthImplementation): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: MOVIES_V1_PACKAGE_NAME,
      protoPath: MOVIE_PROTO_PATH,
      loader: LOADER_OPTIONS,
      credentials: ServerCredentials.createInsecure(),
      channelOptions: CHANNEL_OPTIONS,
      gracefulShutdown: true,
      onLoadPackageDefinition: (definition, server) => {
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

/** A MovieService client on the generated stubs (tests, CLI, benchmark runner). */
export function createMovieClient(address: string): MovieServiceClient {
  return new MovieServiceClient(address, credentials.createInsecure(), CHANNEL_OPTIONS);
}

/** Bearer metadata for admin RPCs; empty metadata without a token. */
export function authMetadata(token?: string): Metadata {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
