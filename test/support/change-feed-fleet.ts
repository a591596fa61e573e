import { hex } from '../factories/movie.factory';
import { isDeepStrictEqual } from 'node:util';
import type { Document } from 'bson';
import { Client } from 'pg';
import { CHANGE_CHANNEL } from '../../src/stack/change-outbox';
import { CacheTier } from '../../src/generated/nest/movies/v1/movie_service';
import { MetricsScrape, metricsUrl } from './app-metrics';
import { startTestApp, type TestApp, type TestAppOptions } from './test-app';
import { sleep, until } from './wait';

/** The embedded database's PostgreSQL, from the global setup (absent on a run against MongoDB). */
export const postgresUrl = process.env.TEST_POSTGRES_URL;
/** The embedded database's source; the change-stream source has its own spec (mongo-java-server). */
export const onPostgres = postgresUrl ? describe : describe.skip;

export const FEED_ENV = {
  CHANGE_FEED: 'postgres',
  CHANGE_FEED_POSTGRES_URL: postgresUrl ?? '',
  CHANGE_FEED_LEASE_MS: '600',
  NEAR_CACHE_TTL_MS: '600000',
  CACHE_TTL_SECONDS: '600',
};
export const SEEN_WITHIN_MS = 5_000;
/** Longer than the outbox source's poll: a change still on its way has arrived by then. */
const SETTLE_MS = 1_500;

/** Two instances on one database and Redis, each following the feed (one leads). */
export async function fleet(options: TestAppOptions = {}, optionsOfB: TestAppOptions = {}) {
  const a = await startTestApp({ ...options, env: { ...FEED_ENV, ...options.env } });
  const b = await startTestApp({
    ...optionsOfB,
    env: { ...FEED_ENV, ...optionsOfB.env },
    config: { mongoUri: a.config.mongoUri },
    keepRedis: true,
  });
  await until(async () => {
    const [sa, sb] = await Promise.all([a.api.getCacheStats(), b.api.getCacheStats()]);
    return [sa, sb].filter((s) => s.changeFeed?.state === 'leading').length === 1;
  });
  return { a, b };
}

/** Reads until the near-cache answers, so a stale copy would be served from process memory. */
export async function warm(t: TestApp, id: string): Promise<void> {
  await until(async () => (await t.api.getMovie({ id })).cacheTier === CacheTier.CACHE_TIER_LOCAL);
}

/**
 * Terminates the LISTEN connection of `t`'s feed in PostgreSQL (named after its database, so
 * another Jest worker's feeds are left alone); how many were terminated.
 */
export async function killFeedListener(admin: Client, t: TestApp): Promise<number> {
  const database = new URL(t.config.mongoUri).pathname.slice(1);
  const killed = await admin.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE query ILIKE 'LISTEN%' AND application_name = $1`,
    [`movie-cache feed ${database}`],
  );
  return killed.rowCount ?? 0;
}

/** One instance leading the feed, its movie warm in the near-cache, and a PostgreSQL admin client. */
export async function leadingWithAdmin(movie: Document) {
  const t = await startTestApp({ env: FEED_ENV, movies: [movie] });
  const admin = new Client({ connectionString: postgresUrl });
  try {
    await admin.connect();
    await until(async () => (await t.api.getCacheStats()).changeFeed?.state === 'leading');
    await warm(t, hex(movie));
  } catch (error) {
    await admin.end().catch(() => undefined);
    await t.close();
    throw error;
  }
  return { t, admin };
}

/** The change feed's counters on /metrics, summed over the instances (whichever of them led). */
export interface FeedCounters {
  /** movie_cache_feed_changes_total by op. */
  changes: Record<string, number>;
  /** movie_cache_feed_flushes_total by reason. */
  flushes: Record<string, number>;
  /** movie_cache_feed_resumes_total. */
  resumes: number;
}

export async function feedCounters(...instances: TestApp[]): Promise<FeedCounters> {
  const counters: FeedCounters = { changes: {}, flushes: {}, resumes: 0 };
  const add = (into: Record<string, number>, key: string, value: number) =>
    (into[key] = (into[key] ?? 0) + value);
  for (const t of instances)
    for (const { series, value } of (await MetricsScrape.of(metricsUrl(t.app))).samples) {
      const [, name, label] =
        /^movie_cache_feed_(\w+)_total(?:\{\w+="([^"]*)"\})?$/.exec(series) ?? [];
      if (name === 'changes') add(counters.changes, label, value);
      else if (name === 'flushes') add(counters.flushes, label, value);
      else if (name === 'resumes') counters.resumes += value;
    }
  return counters;
}

/** How much each counter rose from `before` to `after` (counters that did not rise left out). */
export function risen(before: FeedCounters, after: FeedCounters) {
  const by = (from: Record<string, number>, to: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(to)
        .map(([key, value]) => [key, value - (from[key] ?? 0)] as const)
        .filter(([, rise]) => rise !== 0),
    );
  return {
    changes: by(before.changes, after.changes),
    flushes: by(before.flushes, after.flushes),
    resumes: after.resumes - before.resumes,
  };
}

/**
 * Waits until the feed counters named in `expected` have risen from `before` by exactly that (no
 * other op or reason either), then checks again once anything still on its way had time to arrive.
 */
export async function expectCountersToRise(
  instances: TestApp[],
  before: FeedCounters,
  expected: Partial<ReturnType<typeof risen>>,
): Promise<void> {
  const named = async () => {
    const rise = risen(before, await feedCounters(...instances));
    return Object.fromEntries(
      Object.keys(expected).map((key) => [key, rise[key as keyof typeof rise]]),
    );
  };
  await until(async () => isDeepStrictEqual(await named(), expected), SEEN_WITHIN_MS).catch(
    () => undefined, // the assertion below says what it was
  );
  await sleep(SETTLE_MS);
  expect(await named()).toEqual(expected);
}

/**
 * Writes of other databases (another Jest worker's, say), every few milliseconds: xmin keeps
 * moving, and each wakes every feed on the shared channel.
 */
export async function otherDatabasesBusy(): Promise<{ stop(): Promise<void> }> {
  const client = new Client({ connectionString: postgresUrl });
  await client.connect();
  let running = true;
  const loop = (async () => {
    while (running) {
      await client.query(`SELECT pg_current_xact_id(), pg_notify('${CHANGE_CHANNEL}', '')`);
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
    },
  };
}
