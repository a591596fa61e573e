import type { Server } from '@grpc/grpc-js';
import { constants, type Http2Session, type Http2Stream } from 'node:http2';
import type { AppConfig } from '../config/app-config';
import { http2ServersOf } from './http2-servers';

/** Pings too soon without a call between them, tolerated before GOAWAY (gRPC core's default). */
const MAX_PING_STRIKES = 2;

/**
 * grpc-js server options for the per-connection limits: HTTP/2 streams. Idle connections are
 * closed by `closeWhenIdle`, not grpc-js's `grpc.max_connection_idle_ms` (a `once('close')`
 * listener, a bound function and a timer refresh on every call).
 */
export function connectionLimitOptions(grpc: AppConfig['grpc']): Record<string, number> {
  return { 'grpc.max_concurrent_streams': grpc.maxConcurrentStreams };
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
 * `onStream`: the session's one listener for new calls, shared with the idle check.
 */
export function refusePingFloods(
  session: Http2Session,
  minIntervalMs: number,
  openCalls: () => number,
  onStream: () => void,
): void {
  let lastPing = -Infinity;
  let strikes = 0;
  session.on('stream', () => {
    strikes = 0;
    onStream();
  });
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
 * A connection with no call open for `idleMs` is closed (GOAWAY NO_ERROR; calls that start
 * meanwhile may finish), as grpc-js's `grpc.max_connection_idle_ms` does. One check every
 * `idleMs / 4` asks whether a call is open or began since the last check, so a connection is
 * closed 1-1.5 × `idleMs` after its last call ended. Returns what counts a call's start.
 */
export function closeWhenIdle(
  session: Http2Session,
  idleMs: number,
  openCalls: () => number,
): () => void {
  let started = 0;
  let seen = 0;
  let idleSince = performance.now();
  const check = setInterval(
    () => {
      const now = performance.now();
      if (openCalls() > 0 || started !== seen) {
        seen = started;
        idleSince = now;
      } else if (now - idleSince >= idleMs && !session.closed) session.close();
    },
    Math.max(Math.floor(idleMs / 4), 1),
  );
  check.unref();
  session.once('close', () => clearInterval(check));
  return () => (started += 1);
}

/**
 * grpc-js 1.14 does not enforce keepalive on the server side, and its idle timeout costs every
 * call a listener: both policies are attached to each of its HTTP/2 servers' sessions, sharing
 * one count of open calls and one listener for new ones.
 */
export function enforceConnectionLimits(server: Server, grpc: AppConfig['grpc']): void {
  for (const http2Server of http2ServersOf(server).keys())
    http2Server.on('session', (session) => {
      const openCalls = openStreamCount(session);
      const started = closeWhenIdle(session, grpc.idleTimeoutMs, openCalls);
      refusePingFloods(session, grpc.minPingIntervalMs, openCalls, started);
    });
}
