import type { Server } from '@grpc/grpc-js';
import { constants, type Http2Server, type Http2Session, type Http2Stream } from 'node:http2';
import type { AppConfig } from '../config/app-config';

/** Pings too soon without a call between them, tolerated before GOAWAY (gRPC core's default). */
const MAX_PING_STRIKES = 2;

/** grpc-js server options for the per-connection limits (HTTP/2 streams, idle connections). */
export function connectionLimitOptions(grpc: AppConfig['grpc']): Record<string, number> {
  return {
    'grpc.max_concurrent_streams': grpc.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': grpc.idleTimeoutMs,
  };
}

/**
 * A client that pings more often than `minIntervalMs` with no call open gets GOAWAY
 * (ENHANCE_YOUR_CALM, "too_many_pings"), as gRPC core does; its calls in flight may finish.
 */
export function refusePingFloods(session: Http2Session, minIntervalMs: number): void {
  let lastPing = -Infinity;
  let strikes = 0;
  let calls = 0;
  // One listener shared by every stream of the session: no closure per call.
  const closed = () => (calls -= 1);
  session.on('stream', (stream: Http2Stream) => {
    calls += 1;
    strikes = 0;
    stream.on('close', closed);
  });
  session.on('ping', () => {
    const now = performance.now();
    // While a call is open (a long stream, say), keepalive pings are what keep it alive.
    if (calls === 0 && now - lastPing < minIntervalMs) strikes += 1;
    lastPing = now;
    if (strikes <= MAX_PING_STRIKES || session.closed) return;
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_many_pings'));
    session.close();
  });
}

/**
 * grpc-js 1.14 does not enforce keepalive on the server side. Nest binds the server before it
 * hands it over, so the policy is attached to the HTTP/2 servers grpc-js keeps privately
 * (connection-limits spec fails if that changes).
 */
export function enforceKeepalive(server: Server, minIntervalMs: number): void {
  const { http2Servers } = server as unknown as { http2Servers: Map<Http2Server, unknown> };
  for (const http2Server of http2Servers.keys())
    http2Server.on('session', (session) => refusePingFloods(session, minIntervalMs));
}
