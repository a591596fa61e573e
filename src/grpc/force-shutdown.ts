import type { Server } from '@grpc/grpc-js';
import { constants } from 'node:http2';
import { http2ServersOf } from './http2-servers';

/**
 * grpc-js's forceShutdown, plus the connections it leaves open with channelz off: it destroys
 * only the sessions channelz tracks, while every server keeps its own set (what its graceful
 * shutdown waits for). Their calls still running are cancelled.
 */
export function forceShutdown(server: Server): void {
  const sessions = [...http2ServersOf(server).values()].flatMap(({ sessions }) => [...sessions]);
  server.forceShutdown();
  // As grpc-js does for the sessions it tracks: a GOAWAY, then every stream reset with CANCEL.
  for (const session of sessions) {
    if (session.destroyed) continue;
    session.close();
    session.destroy(new Error('the server was forced to stop'), constants.NGHTTP2_CANCEL);
  }
}
