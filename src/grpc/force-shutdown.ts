import type { Server } from '@grpc/grpc-js';
import { constants, type Http2Server, type Http2Session } from 'node:http2';

/**
 * grpc-js's forceShutdown, plus the connections it leaves open with channelz off: it destroys
 * only the sessions channelz tracks, while every server keeps its own set (what its graceful
 * shutdown waits for). Their calls still running are cancelled.
 */
export function forceShutdown(server: Server): void {
  const { http2Servers } = server as unknown as {
    http2Servers: Map<Http2Server, { sessions: Set<Http2Session> }>;
  };
  const sessions = [...http2Servers.values()].flatMap(({ sessions }) => [...sessions]);
  server.forceShutdown();
  // As grpc-js does for the sessions it tracks: a GOAWAY, then every stream reset with CANCEL.
  for (const session of sessions) {
    if (session.destroyed) continue;
    session.close();
    session.destroy(new Error('the server was forced to stop'), constants.NGHTTP2_CANCEL);
  }
}
