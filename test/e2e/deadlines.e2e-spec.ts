import { Metadata, status } from '@grpc/grpc-js';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Document } from 'bson';
import { CacheStatus } from '../../src/generated/nest/movies/v1/movie_service';
import { MovieApi } from '../../src/grpc/movie-api';
import { movieKey } from '../../src/redis/cache-keys';
import type { ChildService } from '../../src/stack/child-service';
import { startFerretDb } from '../../src/stack/embedded-stack';
import { hex, movieFactory } from '../factories/movie.factory';
import { statusOf } from '../support/grpc-status';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';
import { sleep } from '../support/wait';
import { readCopy } from '../support/cached-copy';

const MAX_READS = 16;
const within = (ms: number) => ({ deadline: Date.now() + ms });

describe('deadlines bound the work they cause (MongoDB frozen with SIGSTOP)', () => {
  // Cold ids for each test: 1,000 short deadlines, 400 longer ones, 200 cancelled, 1 joined.
  const movies = Array.from({ length: 1_601 }, () => movieFactory());
  const [short, longer, cancelled] = [
    movies.slice(0, 1_000),
    movies.slice(1_000, 1_400),
    movies.slice(1_400, 1_600),
  ].map((part) => part.map(hex));
  let ferret: ChildService;
  let t: TestApp;
  let sent = 0;
  /** The time limit (maxTimeMS) of each find the driver sent. */
  const limits: number[] = [];

  beforeAll(async () => {
    ferret = await startFerretDb(tempDir('movie-cache-deadlines-'));
    t = await startTestApp({
      env: { MONGO_MAX_READS: String(MAX_READS), MONGO_TIMEOUT_MS: '5000' },
      // Command monitoring: every read the driver sends is seen (commandStarted).
      config: { mongoUri: `mongodb://127.0.0.1:${ferret.port}/deadlines?monitorCommands=true` },
      movies,
    });
    t.app
      .get<Connection>(getConnectionToken())
      .getClient()
      .on('commandStarted', (event) => {
        if (event.commandName !== 'find') return;
        sent += 1;
        limits.push(Number((event.command as Document).maxTimeMS));
      });
  }, 120_000);
  afterAll(async () => {
    ferret.signal('SIGCONT');
    await t.close();
    await ferret.stop();
  });

  const frozen = async <T>(work: () => Promise<T>, frozenForMs: number): Promise<T> => {
    ferret.signal('SIGSTOP');
    try {
      const result = await work();
      await sleep(frozenForMs);
      return result;
    } finally {
      ferret.signal('SIGCONT');
    }
  };

  /**
   * Calls over cold ids while MongoDB is frozen, each with `deadlineMs`, or none and cancelled
   * after `cancelAfterMs`; their statuses, and the reads the driver sent (and their time limits).
   */
  async function burst(
    ids: string[],
    frozenForMs: number,
    { deadlineMs, cancelAfterMs }: { deadlineMs?: number; cancelAfterMs?: number },
  ) {
    const before = sent;
    const abort = new AbortController();
    // A connection of its own, past its SETTINGS: a burst above the server's concurrent-stream
    // limit before they arrive is refused by Node's HTTP/2 (ENHANCE_YOUR_CALM).
    const api = MovieApi.connect(t.address);
    try {
      await api.getCacheStats();
      const options = deadlineMs === undefined ? {} : within(deadlineMs);
      const codes = await frozen(async () => {
        const calls = ids.map((id) =>
          statusOf(api.getMovie({ id }, new Metadata(), options, abort.signal)),
        );
        if (cancelAfterMs !== undefined) setTimeout(() => abort.abort(), cancelAfterMs);
        return Promise.all(calls);
      }, frozenForMs);
      await sleep(1_000); // what was queued has had its chance to be sent
      return { codes: new Set(codes), reads: sent - before, limits: limits.slice(before) };
    } finally {
      api.close();
    }
  }

  it('1,000 calls with 50 ms deadlines over cold ids: each gets DEADLINE_EXCEEDED, and MongoDB is not sent the abandoned reads', async () => {
    const { codes, reads } = await burst(short, 300, { deadlineMs: 50 });

    expect(codes).toEqual(new Set([status.DEADLINE_EXCEEDED]));
    expect(reads).toBeLessThanOrEqual(MAX_READS);
  });

  it('calls whose reads start in time: at most MONGO_MAX_READS are sent, each given no more time than its caller has left, and the queued ones are dropped at their deadline', async () => {
    // A deadline long enough for the first reads to start on a loaded machine; MongoDB stays
    // frozen past it, so the queued reads reach their deadline before they could be sent.
    const { codes, reads, limits } = await burst(longer, 2_500, { deadlineMs: 1_000 });

    expect(codes).toEqual(new Set([status.DEADLINE_EXCEEDED]));
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(MAX_READS);
    // MONGO_TIMEOUT_MS is 5,000: each read's maxTimeMS is clamped to the caller's deadline.
    for (const limit of limits) {
      expect(limit).toBeGreaterThan(0);
      expect(limit).toBeLessThanOrEqual(1_000);
    }
  });

  it('calls without a deadline, cancelled by their clients: each ends CANCELLED, and the reads still queued are not sent once MongoDB is back', async () => {
    const { codes, reads, limits } = await burst(cancelled, 500, { cancelAfterMs: 100 });

    expect(codes).toEqual(new Set([status.CANCELLED]));
    expect(reads).toBeLessThanOrEqual(MAX_READS);
    expect(limits.every((limit) => limit === 5_000)).toBe(true);
  });

  it('a caller whose deadline passes gets DEADLINE_EXCEEDED; the miss it began still fills for a joiner with time left', async () => {
    const movie = movies[movies.length - 1];
    const id = hex(movie);
    await t.redis.del(movieKey(id));

    const before = sent;

    const [first, long] = await frozen(async () => {
      const leader = statusOf(t.api.getMovie({ id }, new Metadata(), within(100)));
      await sleep(20);
      const joiner = t.api.getMovie({ id }, new Metadata(), within(10_000));
      return [await leader, joiner] as const;
    }, 300);

    expect(first).toBe(status.DEADLINE_EXCEEDED);
    expect(sent - before).toBe(1);
    expect((await long).movie?.id).toBe(id);
    expect((await long).cacheStatus).toBe(CacheStatus.CACHE_STATUS_MISS);
    expect((await readCopy(t.redis, id))?.id).toBe(id);
  });
});
