import { Metadata, credentials, type ChannelOptions } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { MovieServiceClient } from '../generated/client/movies/v1/movie_service';
import { CHANNEL_OPTIONS } from './grpc-channel';

export interface ClientTls {
  /** PEM of the CA (or the server's self-signed certificate) to trust. */
  ca: Buffer;
  /** The name to send as TLS SNI and check the certificate against (default: the address's host). */
  serverName?: string;
  /** Skip the host name check (the server's own loopback connection). */
  anyHostName?: boolean;
}

function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  return bracketed ? bracketed[1] : address.replace(/:\d+$/, '');
}

/** A MovieService client on the generated stubs (tests, CLI, benchmark runner). */
export function createMovieClient(address: string, tls?: ClientTls): MovieServiceClient {
  if (!tls) return new MovieServiceClient(address, credentials.createInsecure(), CHANNEL_OPTIONS);
  // Node.js 26 refuses an IP address as the TLS server name, which grpc-js sends by default.
  const serverName = tls.serverName ?? (tls.anyHostName ? 'localhost' : undefined);
  if (!serverName && isIP(hostOf(address))) {
    throw new Error(
      `TLS to an IP address (${address}) needs a server name to verify the certificate against ` +
        "(the CLI's --tls-server-name): Node.js refuses an IP address as the TLS server name",
    );
  }
  const options: ChannelOptions = serverName
    ? {
        ...CHANNEL_OPTIONS,
        'grpc.ssl_target_name_override': serverName,
        'grpc.default_authority': serverName,
      }
    : CHANNEL_OPTIONS;
  const channel = credentials.createSsl(
    tls.ca,
    null,
    null,
    tls.anyHostName ? { checkServerIdentity: () => undefined } : {},
  );
  return new MovieServiceClient(address, channel, options);
}

/** Bearer metadata for admin RPCs; empty metadata without a token. */
export function authMetadata(token?: string): Metadata {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
