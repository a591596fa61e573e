import { Metadata, credentials } from '@grpc/grpc-js';
import { MovieServiceClient } from '../generated/client/movies/v1/movie_service';
import { CHANNEL_OPTIONS } from './grpc-channel';

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
