import { Channel, Metadata, credentials, status, type StatusObject } from '@grpc/grpc-js';
import {
  StreamTrendingRequest,
  StreamTrendingResponse,
} from '../../src/generated/client/movies/v1/movie_service';
import { LeaderboardProvider } from '../../src/trending/leaderboard.provider';
import { TrendingFeed } from '../../src/trending/trending-feed.service';
import { hex, movieFactory } from '../factories/movie.factory';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';

const TREND_ENV = { TRENDING_BUCKET_SECONDS: '1', VIEW_FLUSH_MS: '50' };
const METHOD = '/movies.v1.MovieService/StreamTrending';

/**
 * StreamTrending through grpc-js's low-level call: each startRead takes one message, so a client
 * that stops asking stalls at HTTP/2 flow control with nothing piling up in a client Readable.
 */
class RawTrendingStream {
  readonly received: StreamTrendingResponse[] = [];
  status?: StatusObject;
  private readonly call: ReturnType<Channel['createCall']>;
  private reading = true;

  constructor(channel: Channel, request: Partial<StreamTrendingRequest>) {
    this.call = channel.createCall(METHOD, Infinity, null, null, null);
    this.call.start(new Metadata(), {
      onReceiveMetadata: () => undefined,
      onReceiveMessage: (bytes: Buffer) => {
        this.received.push(StreamTrendingResponse.decode(bytes));
        if (this.reading) this.call.startRead();
      },
      onReceiveStatus: (received: StatusObject) => (this.status = received),
    });
    const message = StreamTrendingRequest.encode(StreamTrendingRequest.fromPartial(request));
    this.call.sendMessageWithContext({}, Buffer.from(message.finish()));
    this.call.halfClose();
    this.call.startRead();
  }

  /** Stops asking for messages once the one already asked for has arrived. */
  pause(): void {
    this.reading = false;
  }

  resume(): void {
    this.reading = true;
    this.call.startRead();
  }

  cancel(): void {
    this.call.cancelWithStatus(status.CANCELLED, 'cancelled by the test');
  }
}

describe('StreamTrending to a client that stops reading', () => {
  // Titles long enough that a 100-entry snapshot (~40 KB) outgrows the client's 64 KB window fast.
  const movies = Array.from({ length: 100 }, (_, i) =>
    movieFactory({ title: `Stalled ${i} ${'x'.repeat(360)}` }),
  );
  let t: TestApp;
  let channel: Channel;

  beforeAll(async () => {
    t = await startTestApp({ env: TREND_ENV, movies });
    channel = new Channel(t.address, credentials.createInsecure(), {});
  });
  afterAll(async () => {
    channel?.close();
    await t?.close();
  });

  it('keeps only the latest snapshot while stalled and sends it once the client reads again', async () => {
    // Every movie ranked from the start, so every snapshot is full size.
    for (const movie of movies) await t.api.getMovie({ id: hex(movie) });
    await t.app.get(LeaderboardProvider).flush();
    const request = { limit: 100, intervalMs: 100 };
    const stalled = new RawTrendingStream(channel, request);
    const reference = new SnapshotReader(t.api.streamTrending(request));
    await until(async () => stalled.received.length > 0 && reference.messages.length > 0);
    stalled.pause();
    const seenBeforeStall = stalled.received.length;
    const referenceBefore = reference.messages.length;

    // ~5 s of views, each tick's ranking unlike the last: ~50 snapshots the client does not read.
    const changeUntil = Date.now() + 5_000;
    for (let i = 0; Date.now() < changeUntil; i += 1) {
      await t.api.getMovie({ id: hex(movies[i % movies.length]) });
      await sleep(20);
    }
    await t.app.get(LeaderboardProvider).flush();
    await sleep(500);
    const changes = reference.messages.length - referenceBefore;
    const fresh = new SnapshotReader(t.api.streamTrending(request));
    const latest = await fresh.waitFor(() => true);

    stalled.resume();
    await until(async () => {
      const last = stalled.received.at(-1);
      return last !== undefined && JSON.stringify(last.entries) === JSON.stringify(latest.entries);
    }, 10_000);
    await sleep(500);
    const afterResume = stalled.received.length - seenBeforeStall;

    expect(changes).toBeGreaterThanOrEqual(30);
    expect(stalled.received.at(-1)?.entries).toEqual(latest.entries);
    // The read asked for before the stall, what the client's HTTP/2 window held (~2), the write in
    // flight, the latest. Nest's own writer sends all ~50; coalescing on 'drain' alone, ~20.
    expect(afterResume).toBeLessThanOrEqual(6);
    expect(stalled.status).toBeUndefined();
    [stalled, reference, fresh].forEach((stream) => stream.cancel());
  });

  it('gives the slot of a stalled stream back when the client cancels or the server ends streams', async () => {
    const openStreams = async () => (await t.api.getCacheStats()).trendingStreams;
    const request = { limit: 100, intervalMs: 100 };
    const cancelled = new RawTrendingStream(channel, request);
    const ended = new RawTrendingStream(channel, request);
    await until(async () => cancelled.received.length > 0 && ended.received.length > 0);
    [cancelled, ended].forEach((stream) => stream.pause());
    for (let i = 0; i < 200; i += 1) await t.api.getMovie({ id: hex(movies[i % movies.length]) });
    await sleep(1_000);
    expect(await openStreams()).toBe(2);

    cancelled.cancel();
    await until(async () => (await openStreams()) === 1, 5_000);
    t.app.get(TrendingFeed).endAll();
    await until(async () => (await openStreams()) === 0, 5_000);

    // Its status waits behind the snapshot in flight; reading again delivers it.
    ended.resume();
    await until(async () => ended.status !== undefined, 5_000);
    expect(ended.status?.code).toBe(status.UNAVAILABLE);
  });
});
