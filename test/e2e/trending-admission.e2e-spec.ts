import { status } from '@grpc/grpc-js';
import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import {
  StreamTrendingRequest,
  type StreamTrendingResponse,
} from '../../src/generated/client/movies/v1/movie_service';
import { authMetadata } from '../../src/grpc/grpc-client';
import { MetricsService } from '../../src/metrics/metrics.service';
import { TrendingFeed } from '../../src/trending/trending-feed.service';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

const CAPS_ENV = { TRENDING_MAX_STREAMS: '5', TRENDING_MAX_STREAMS_PER_PEER: '3' };
/** The instance cap's name, not the per-peer one it prefixes. */
const INSTANCE_CAP = /\bTRENDING_MAX_STREAMS\b/;
const PEER_CAP = /\bTRENDING_MAX_STREAMS_PER_PEER\b/;

interface PeerStream {
  /** true once a snapshot arrived, false if the call ended first. */
  admitted: Promise<boolean>;
  ended: Promise<{ code: number; message: string }>;
  cancel(): void;
}

/**
 * StreamTrending over bare HTTP/2 from another loopback address (127.0.0.2, ...): the server sees
 * a second peer, with no network namespace needed.
 */
function streamFrom(localAddress: string, port: number): PeerStream {
  const session = connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connectTcp({ host: '127.0.0.1', port, localAddress }),
  });
  const call = session.request({
    ':method': 'POST',
    ':path': '/movies.v1.MovieService/StreamTrending',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const body = StreamTrendingRequest.encode({
    limit: 0,
    windowSeconds: 0,
    intervalMs: 100,
    includeMovies: false,
  }).finish();
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  call.end(frame);
  const ended = new Promise<{ code: number; message: string }>((resolve) => {
    const settle = (headers: IncomingHttpHeaders) => {
      if (headers['grpc-status'] === undefined) return;
      const message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      resolve({ code: Number(headers['grpc-status']), message });
      session.close();
    };
    call.on('response', settle).on('trailers', settle);
  });
  const snapshot = new Promise<boolean>((resolve) => call.once('data', () => resolve(true)));
  return {
    admitted: Promise.race([snapshot, ended.then(() => false)]),
    ended,
    cancel: () => {
      call.close(constants.NGHTTP2_CANCEL);
      session.close();
    },
  };
}

describe('StreamTrending admission', () => {
  let t: TestApp;
  const readers: SnapshotReader<StreamTrendingResponse>[] = [];
  const peers: PeerStream[] = [];

  const open = () => {
    const reader = new SnapshotReader(t.api.streamTrending({ intervalMs: 100 }));
    readers.push(reader);
    return reader;
  };
  /** `count` streams from 127.0.0.1, each admitted (its first snapshot arrived). */
  const openAdmitted = async (count: number) => {
    const opened = Array.from({ length: count }, open);
    await Promise.all(opened.map((reader) => reader.waitFor(() => true)));
    return opened;
  };
  const openFrom = (address: string) => {
    const stream = streamFrom(address, Number(t.address.split(':')[1]));
    peers.push(stream);
    return stream;
  };
  const openStreams = async () => (await t.api.getCacheStats()).trendingStreams;
  const refusedByCap = async () => {
    const { values } = await t.app.get(MetricsService).trendingStreamsRefused.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.cap), v.value]));
  };

  beforeAll(async () => {
    t = await startTestApp({ env: CAPS_ENV });
  });
  afterEach(async () => {
    readers.splice(0).forEach((reader) => reader.cancel());
    peers.splice(0).forEach((stream) => stream.cancel());
    await until(async () => (await openStreams()) === 0, 5_000);
  });
  afterAll(() => t?.close());

  it('refuses a stream past either cap with RESOURCE_EXHAUSTED naming the cap; refused ones take no slot', async () => {
    const refusedBefore = await refusedByCap();
    await openAdmitted(3);

    const overPeer = await open().closed();
    const otherPeer = [openFrom('127.0.0.2'), openFrom('127.0.0.2')];
    const otherAdmitted = await Promise.all(otherPeer.map((stream) => stream.admitted));
    const overInstance = await openFrom('127.0.0.3').ended;

    expect(overPeer).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(overPeer?.details).toMatch(PEER_CAP);
    expect(otherAdmitted).toEqual([true, true]);
    expect(overInstance.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(overInstance.message).toMatch(INSTANCE_CAP);
    expect(overInstance.message).not.toMatch(PEER_CAP);
    expect(await openStreams()).toBe(5);
    expect(await refusedByCap()).toEqual({
      peer: (refusedBefore.peer ?? 0) + 1,
      instance: (refusedBefore.instance ?? 0) + 1,
    });
  });

  it('gives a cancelled stream its slot back: the next stream is admitted', async () => {
    const [first] = await openAdmitted(3);
    expect((await open().closed())?.code).toBe(status.RESOURCE_EXHAUSTED);

    first.cancel();
    await until(async () => (await openStreams()) === 2, 5_000);
    const next = open();

    await expect(next.waitFor(() => true)).resolves.toBeDefined();
    expect(await openStreams()).toBe(3);
  });

  it('gives the slot of a stream past its deadline back', async () => {
    const request = StreamTrendingRequest.fromPartial({ intervalMs: 100 });
    const late = new SnapshotReader(
      t.api.client.streamTrending(request, authMetadata(), { deadline: Date.now() + 500 }),
    );
    readers.push(late);
    await openAdmitted(2);

    expect((await late.closed())?.code).toBe(status.DEADLINE_EXCEEDED);
    await until(async () => (await openStreams()) === 2, 5_000);
    await expect(open().waitFor(() => true)).resolves.toBeDefined();
  });

  it('gives every slot back when the server ends its streams', async () => {
    const local = await openAdmitted(3);
    const other = [openFrom('127.0.0.2'), openFrom('127.0.0.2')];
    await Promise.all(other.map((stream) => stream.admitted));

    t.app.get(TrendingFeed).endAll();

    for (const reader of local) expect((await reader.closed())?.code).toBe(status.UNAVAILABLE);
    for (const stream of other) expect((await stream.ended).code).toBe(status.UNAVAILABLE);
    expect(await openStreams()).toBe(0);
    await expect(openAdmitted(3)).resolves.toHaveLength(3);
    expect(await openStreams()).toBe(3);
  });
});
