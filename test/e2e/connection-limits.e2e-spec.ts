import { connect, type ClientHttp2Session } from 'node:http2';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';

/** What happened to a raw HTTP/2 connection: its GOAWAY (code, debug data), if any, and its end. */
function watch(session: ClientHttp2Session) {
  let goaway: { code: number; data: string } | undefined;
  session.on('goaway', (code, _lastStreamId, data) => {
    goaway = { code, data: data?.toString() ?? '' };
  });
  session.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  return { goaway: () => goaway, closed };
}

const open = (t: TestApp) =>
  new Promise<ClientHttp2Session>((resolve, reject) => {
    const session = connect(`http://${t.address}`);
    session.once('remoteSettings', () => resolve(session));
    session.once('error', reject);
  });

describe('gRPC connection limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        GRPC_MAX_CONCURRENT_STREAMS: '7',
        GRPC_MIN_PING_INTERVAL_MS: '200',
      },
    });
  });
  afterAll(() => t.close());

  it('announces GRPC_MAX_CONCURRENT_STREAMS in its HTTP/2 settings', async () => {
    const session = await open(t);
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    } finally {
      session.destroy();
    }
  });

  it('refuses a stream past GRPC_MAX_CONCURRENT_STREAMS (sent before the settings reached the client), serving the others', async () => {
    const session = connect(`http://${t.address}`);
    session.on('error', () => undefined);
    try {
      // Opened at once, before the server's SETTINGS arrive: the client does not hold any back.
      const calls = Array.from({ length: 9 }, () => {
        const call = session.request({
          ':method': 'POST',
          ':path': '/movies.v1.MovieService/StreamTrending',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        call.on('error', () => undefined);
        call.end(Buffer.from([0, 0, 0, 0, 0])); // an empty StreamTrendingRequest; the feed runs on
        return call;
      });
      await until(() => Promise.resolve(calls.filter((call) => call.closed).length === 2), 5_000);

      const refused = calls.filter((call) => call.closed);
      expect(refused.map((call) => call.rstCode)).toEqual([7, 7]); // REFUSED_STREAM
      expect((await t.api.getCacheStats()).trendingStreams).toBe(7);
    } finally {
      session.destroy();
    }
  });

  it('a client pinging too often gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; the server keeps serving', async () => {
    const session = await open(t);
    const watched = watch(session);

    for (let i = 0; i < 10 && !session.closed && !watched.goaway(); i += 1) {
      session.ping(() => undefined);
      await sleep(5);
    }
    await watched.closed;

    expect(watched.goaway()).toEqual({ code: 11, data: 'too_many_pings' });
    expect((await t.api.getCacheStats()).redisOk).toBe(true);
  });

  it('pings spaced by the allowed interval are answered', async () => {
    const session = await open(t);
    const watched = watch(session);
    try {
      for (let i = 0; i < 4; i += 1) {
        await new Promise<void>((resolve, reject) =>
          session.ping((error) => (error ? reject(error) : resolve())),
        );
        await sleep(250);
      }
      expect(watched.goaway()).toBeUndefined();
    } finally {
      session.destroy();
    }
  });

  it('pings are not counted while a call is open (keepalive of a long stream)', async () => {
    const session = await open(t);
    const watched = watch(session);
    try {
      const call = session.request({
        ':method': 'POST',
        ':path': '/movies.v1.MovieService/StreamTrending',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      call.on('error', () => undefined);
      call.write(Buffer.from([0, 0, 0, 0, 0])); // an empty StreamTrendingRequest, left open
      for (let i = 0; i < 10; i += 1) {
        session.ping(() => undefined);
        await sleep(5);
      }
      await sleep(100);
      expect(watched.goaway()).toBeUndefined();
      call.close();
    } finally {
      session.destroy();
    }
  });

  describe('GRPC_IDLE_TIMEOUT_MS (400 ms)', () => {
    let idle: TestApp;
    beforeAll(async () => {
      idle = await startTestApp({ env: { GRPC_IDLE_TIMEOUT_MS: '400' } });
    });
    afterAll(() => idle.close());

    /** One unary call on the raw connection (an empty GetMovie request), to its end. */
    const call = (session: ClientHttp2Session) =>
      new Promise<void>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/movies.v1.MovieService/GetMovie',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => resolve());
        stream.on('close', () => resolve());
        stream.resume();
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });

    it('closes a connection idle for GRPC_IDLE_TIMEOUT_MS', async () => {
      const session = await open(idle);
      const watched = watch(session);

      const outcome = await Promise.race([watched.closed.then(() => 'closed'), sleep(5_000)]);

      expect(outcome).toBe('closed');
      expect(watched.goaway()?.code).toBe(0);
    });

    it('keeps a connection whose calls come more often than that, and closes it once they stop', async () => {
      const session = await open(idle);
      const watched = watch(session);
      let closed = false;
      void watched.closed.then(() => (closed = true));

      for (let i = 0; i < 8; i += 1) {
        await call(session);
        await sleep(150);
      }
      expect(closed).toBe(false);
      const stoppedAt = performance.now();
      await watched.closed;
      expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(400 - 150);
      expect(watched.goaway()?.code).toBe(0);
    });
  });
});
