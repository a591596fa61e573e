import type { Server } from '@grpc/grpc-js';
import type { Http2Server, Http2Session } from 'node:http2';

/**
 * The HTTP/2 servers grpc-js keeps privately, each with the sessions it has open (what its
 * graceful shutdown waits for). Nest binds the server before it hands it over, so policies on
 * connections are attached here (connection-limits and shutdown specs fail if this changes).
 */
export function http2ServersOf(server: Server): Map<Http2Server, { sessions: Set<Http2Session> }> {
  return (server as unknown as { http2Servers: Map<Http2Server, { sessions: Set<Http2Session> }> })
    .http2Servers;
}
