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
 * How many streams of the session are open, asked only when a ping comes: Node keeps them in the
 * session's state; where it does not (another Node), a close listener per stream counts them.
 */
export function openStreamCount(session: Http2Session): () => number {
  const state = Object.getOwnPropertySymbols(session).find((key) => key.description === 'state');
  const streams =
    state && (session as unknown as Record<symbol, { streams?: unknown }>)[state]?.streams;
  if (streams instanceof Map) return () => streams.size;
  let calls = 0;
  const closed = () => (calls -= 1);
  session.on('stream', (stream: Http2Stream) => {
    calls += 1;
    stream.on('close', closed);
  });
  return () => calls;
}

/**
 * A client that pings more often than `minIntervalMs` with no call open gets GOAWAY
 * (ENHANCE_YOUR_CALM, "too_many_pings"), as gRPC core does; its calls in flight may finish.
 */
export function refusePingFloods(session: Http2Session, minIntervalMs: number): void {
  let lastPing = -Infinity;
  let strikes = 0;
  const openCalls = openStreamCount(session);
  session.on('stream', () => (strikes = 0));
  session.on('ping', () => {
    const now = performance.now();
    // While a call is open (a long stream, say), keepalive pings are what keep it alive.
    if (openCalls() === 0 && now - lastPing < minIntervalMs) strikes += 1;
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
