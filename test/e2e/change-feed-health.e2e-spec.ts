import { CHANGE_FEED_HEALTH } from '../../src/ops/health.monitor';
import { hex, movieFactory } from '../factories/movie.factory';
import {
  expectCountersToRise,
  feedCounters,
  FEED_ENV,
  onPostgres,
  postgresUrl,
  SEEN_WITHIN_MS,
  warm,
} from '../support/change-feed-fleet';
import { checkHealth } from '../support/health-client';
import { postgresRelay, type TcpRelay } from '../support/tcp-relay';
import { startTestApp, type TestApp } from '../support/test-app';
import { sleep, until } from '../support/wait';

/** The outbox source gives up on a connection or read after 5 s; then it retries every 0.5 s. */
const NOTICED_WITHIN_MS = 15_000;

/**
 * CHANGE_FEED_HEALTH answers NOT_SERVING while the feed fails (caches then rely on their TTLs) and
 * SERVING once it follows again. The feed reaches PostgreSQL through a relay the spec cuts; FerretDB
 * (and so the writes) keeps its own path.
 */
onPostgres('the change feed’s health while its PostgreSQL cannot be reached', () => {
  let relay: TcpRelay;
  let t: TestApp;
  let closing: Promise<void> | undefined;
  const movie = movieFactory({ rating: 2 });

  const health = () => checkHealth(t.address, CHANGE_FEED_HEALTH);
  const state = async () => (await t.api.getCacheStats()).changeFeed?.state;
  const expectHealth = (expected: string, within = SEEN_WITHIN_MS) =>
    until(async () => (await health()) === expected, within);
  /** A direct write made while the feed was away is applied once it is back. */
  async function expectApplied(rating: number): Promise<void> {
    await until(
      async () => (await t.api.getMovie({ id: hex(movie) })).movie?.rating === rating,
      SEEN_WITHIN_MS,
    );
  }

  beforeAll(async () => {
    let url: string;
    ({ relay, url } = await postgresRelay(postgresUrl!));
    t = await startTestApp({
      env: { ...FEED_ENV, CHANGE_FEED_POSTGRES_URL: url, HEALTH_INTERVAL_MS: '100' },
      movies: [movie],
    });
  });
  afterAll(async () => {
    await relay?.close(); // first: a close stuck on a frozen path comes unstuck
    await (closing ?? t?.close());
  });

  it('nobody listening on its port at boot: NOT_SERVING while it retries, SERVING once it can connect', async () => {
    await expectHealth('NOT_SERVING');
    await sleep(1_500); // several failed attempts
    expect(await state()).toBe('recovering');
    expect(await health()).toBe('NOT_SERVING');

    await relay.open();

    await expectHealth('SERVING');
    expect(await state()).toBe('leading');
    await warm(t, hex(movie));
    await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 3.5 } });
    await expectApplied(3.5);
  });

  it('its connections reset and refused mid-stream: NOT_SERVING, then SERVING, resumed once from its token and nothing lost', async () => {
    await warm(t, hex(movie));
    const counted = await feedCounters(t);

    await relay.close();
    await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 4.5 } });
    await expectHealth('NOT_SERVING');
    await sleep(1_500); // several attempts to resume, none of them a resume
    await relay.open();

    await expectHealth('SERVING');
    await expectApplied(4.5);
    await expectCountersToRise([t], counted, { changes: { update: 1 }, flushes: {}, resumes: 1 });
  });

  it('its path to PostgreSQL frozen (no reply, no reset): NOT_SERVING within seconds, SERVING once it thaws, nothing lost', async () => {
    await warm(t, hex(movie));
    const counted = await feedCounters(t);

    relay.freeze();
    await t.movies.updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 5.5 } });
    await expectHealth('NOT_SERVING', NOTICED_WITHIN_MS);
    await relay.open();

    await expectHealth('SERVING', NOTICED_WITHIN_MS);
    expect(await state()).toBe('leading');
    await expectApplied(5.5);
    await expectCountersToRise([t], counted, { changes: { update: 1 }, flushes: {}, resumes: 1 });
  });

  it('shut down while its path is frozen: it stops within seconds, not waiting for goodbyes no one answers', async () => {
    relay.freeze();
    await sleep(500);

    closing = t.close();

    // Bounded by a read's timeout (5 s) and two goodbyes (1 s each); unbounded, it never ends.
    const closed = await Promise.race([
      closing.then(() => 'closed'),
      sleep(15_000).then(() => 'stuck'),
    ]);
    expect(closed).toBe('closed');
  });
});
