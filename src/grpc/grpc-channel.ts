import type { ChannelOptions } from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import {
  MOVIES_V1_PACKAGE_NAME,
  MOVIE_SERVICE_NAME,
} from '../generated/nest/movies/v1/movie_service';

/** What server and clients agree on: the service name, proto loading and message limits. */
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

export const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
};
