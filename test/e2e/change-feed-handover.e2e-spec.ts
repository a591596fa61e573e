import { hex, movieFactory } from '../factories/movie.factory';
import {
  expectCountersToRise,
  FEED_ENV,
  feedCounters,
  onPostgres,
  postgresUrl,
  warm,
} from '../support/change-feed-fleet';
import { postgresRelay, type TcpRelay } from '../support/tcp-relay';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

/** The outbox source gives up on a read after 5 s; the other instance then takes the lease. */
const TAKEN_OVER_WITHIN_MS = 15_000;

/**
 * A leader whose own path to PostgreSQL is stuck hands the feed over: another instance that can
 * reach it leads from the stored token, and no direct write waits for the stuck one to recover.
 */
onPostgres('the change feed’s leader cut off from PostgreSQL', () => {
  let relay: TcpRelay;
  let cut: TestApp;
  let other: TestApp;
  const movie = movieFactory({ rating: 2 });

  beforeAll(async () => {
    let url: string;
    ({ relay, url } = await postgresRelay(postgresUrl!));
    await relay.open();
    cut = await startTestApp({
      env: { ...FEED_ENV, CHANGE_FEED_POSTGRES_URL: url },
      movies: [movie],
    });
    await until(async () => (await cut.api.getCacheStats()).changeFeed?.state === 'leading');
    other = await startTestApp({
      env: FEED_ENV,
      config: { mongoUri: cut.config.mongoUri },
      keepRedis: true,
    });
    await until(async () => (await other.api.getCacheStats()).changeFeed?.state === 'standby');
  });
  afterAll(async () => {
    await relay?.close(); // first: a close stuck on a frozen path comes unstuck
    await cut?.close();
    await other?.close();
  });

  it('another instance takes over from the stored token: the write is seen on both, nothing flushed', async () => {
    for (const t of [cut, other]) await warm(t, hex(movie));
    const counted = await feedCounters(cut, other);

    relay.freeze();
    await cut.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 7.5 } });

    for (const t of [cut, other])
      await until(
        async () => (await t.api.getMovie({ id: hex(movie) })).movie?.rating === 7.5,
        TAKEN_OVER_WITHIN_MS,
      );
    expect((await other.api.getCacheStats()).changeFeed).toMatchObject({
      state: 'leading',
      flushes: 0,
    });
    await expectCountersToRise([cut, other], counted, {
      changes: { update: 1 },
      flushes: {},
      resumes: 1,
    });
  });
});
