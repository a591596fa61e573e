import { EventEmitter } from 'node:events';
import {
  connect,
  createServer,
  type ClientHttp2Session,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { closeWhenIdle, openStreamCount } from './connection-limits';

describe(openStreamCount.name, () => {
  let server: Http2Server;
  let client: ClientHttp2Session;
  let counts: Array<() => number>;
  let streams: ServerHttp2Stream[];

  beforeEach(async () => {
    counts = [];
    streams = [];
    server = createServer();
    server.on('session', (session) => counts.push(openStreamCount(session)));
    server.on('stream', (stream) => streams.push(stream as ServerHttp2Stream));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterEach(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it("counts a session's open streams from Node's own state, each until it closes", async () => {
    const requests = [client.request({ ':path': '/a' }), client.request({ ':path': '/b' })];
    await until(() => streams.length === 2);

    expect(counts[0]()).toBe(2);
    streams[0].respond({ ':status': 200 });
    streams[0].end();
    requests[0].resume();
    await until(() => counts[0]() === 1);
    expect(counts[0]()).toBe(1);
    requests[1].close();
    await until(() => counts[0]() === 0);
  });

  it('counts them with a listener per stream where the session keeps no such state', () => {
    const session = new EventEmitter() as unknown as Http2Session;
    const sut = openStreamCount(session);
    const [a, b] = [new EventEmitter(), new EventEmitter()];

    session.emit('stream', a);
    session.emit('stream', b);
    expect(sut()).toBe(2);
    a.emit('close');
    expect(sut()).toBe(1);
  });
});

describe(closeWhenIdle.name, () => {
  const IDLE_MS = 400;
  let open: number;
  let session: Http2Session & { close: jest.Mock };

  beforeEach(() => {
    jest.useFakeTimers();
    open = 0;
    const emitter = new EventEmitter() as unknown as Http2Session & { close: jest.Mock };
    emitter.close = jest.fn(() => Object.assign(emitter, { closed: true }));
    session = emitter;
  });
  afterEach(() => jest.useRealTimers());

  /** The ms after which the session was closed, checked every ms up to `limitMs`. */
  const closedAfter = (limitMs: number, everyMs?: number, started?: () => void) => {
    for (let ms = 1; ms <= limitMs; ms += 1) {
      if (everyMs && started && ms % everyMs === 0) started();
      jest.advanceTimersByTime(1);
      if (session.close.mock.calls.length > 0) return ms;
    }
    return undefined;
  };

  it('closes a connection without calls between 1 and 1.5 times the idle timeout', () => {
    closeWhenIdle(session, IDLE_MS, () => open);

    const ms = closedAfter(2 * IDLE_MS);

    expect(ms).toBeGreaterThanOrEqual(IDLE_MS);
    expect(ms).toBeLessThanOrEqual(1.5 * IDLE_MS);
    expect(session.close).toHaveBeenCalledTimes(1);
  });

  it('keeps a connection whose call stays open past the timeout, and closes it once idle after', () => {
    closeWhenIdle(session, IDLE_MS, () => open);
    open = 1;

    expect(closedAfter(5 * IDLE_MS)).toBeUndefined();
    open = 0;
    const ms = closedAfter(2 * IDLE_MS);
    expect(ms).toBeGreaterThanOrEqual(IDLE_MS);
    expect(ms).toBeLessThanOrEqual(1.5 * IDLE_MS);
  });

  it('keeps a connection whose calls, each shorter than a check, start more often than the timeout', () => {
    const started = closeWhenIdle(session, IDLE_MS, () => open);
    const everyMs = IDLE_MS - 50;
    const lastStart = Math.floor((5 * IDLE_MS) / everyMs) * everyMs;

    expect(closedAfter(5 * IDLE_MS, everyMs, started)).toBeUndefined();
    const sinceLastCall = 5 * IDLE_MS - lastStart + closedAfter(2 * IDLE_MS)!;
    expect(sinceLastCall).toBeGreaterThanOrEqual(IDLE_MS);
    expect(sinceLastCall).toBeLessThanOrEqual(1.5 * IDLE_MS);
  });

  it('stops checking once the connection is closed', () => {
    closeWhenIdle(session, IDLE_MS, () => open);
    session.emit('close');

    expect(closedAfter(3 * IDLE_MS)).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });
});
