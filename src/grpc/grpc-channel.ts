import type { ChannelOptions } from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { MovieServiceClient } from '../generated/client/movies/v1/movie_service';

/**
 * What server and clients agree on: the service name, proto loading and message limits.
 * The name comes from the client stubs: the CLI loads this file, and the NestJS stubs would load
 * NestJS and rxjs into it (0.2 s more a call; `cli-without-nest` in .dependency-cruiser.cjs).
 */
export const MOVIE_SERVICE_FULL_NAME = MovieServiceClient.serviceName;

/** 4 MiB each way: far above any movie, small enough to refuse abuse. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
};

export const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
};
