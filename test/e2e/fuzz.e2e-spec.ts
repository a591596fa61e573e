import fc from 'fast-check';
import type { Document } from 'bson';
import { Logger } from 'nestjs-pino';
import { fuzzCase } from '../support/fuzz-arbitraries';
import {
  CALL_SHAPES,
  caseBytes,
  RPC_PATHS,
  RPCS,
  type FuzzCase,
  type Rpc,
} from '../support/fuzz-cases';
import { RawGrpcClient, toGrpcMetadata } from '../support/fuzz-client';
import { MetricsScrape, metricsUrl } from '../support/app-metrics';
import { FuzzOracle, type RatingLedger } from '../support/fuzz-oracle';
import { fuzzWorld } from '../support/fuzz-world';
import { checkHealth } from '../support/health-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { until } from '../support/wait';

const TOKEN = 'fuzz-admin-token-2f9c41d7';
/** Cases across every RPC: a bounded number in CI, more through `npm run fuzz`. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const PATH = process.env.FUZZ_PATH;
/** Each RPC's share of the cases; the rest go to all of them interleaved. */
const SHARES: Record<Rpc, number> = {
  GetMovie: 0.15,
  BatchGetMovies: 0.12,
  UpdateRating: 0.15,
  StreamTrending: 0.09,
  RunBenchmark: 0.1,
  GetCacheStats: 0.04,
  HealthCheck: 0.04,
  HealthWatch: 0.05,
  HealthList: 0.03,
  ReflectionV1: 0.06,
  ReflectionV1Alpha: 0.04,
};
const INTERLEAVED = 1 - Object.values(SHARES).reduce((a, b) => a + b, 0);
const CALL_TIMEOUT_MS = 5_000;
const BENCHMARK_TIMEOUT_MS = 15_000;
const TEST_TIMEOUT_MS = Math.max(60_000, RUNS * 50);

/** A signed zero is still the rating written: `===`, unlike toEqual's Object.is. */
const sameNumber = (n: number) => ({
  asymmetricMatch: (actual: unknown) => actual === n,
  toAsymmetricMatcher: () => `=== ${n}`,
});

/** The inserted documents, with the acknowledged ratings applied as UpdateRating applies them. */
function expectedDocs(docs: Document[], ratings: RatingLedger): Document[] {
  return docs.map((doc) => {
    const write = ratings.get(doc._id.toHexString());
    if (!write) return doc;
    return {
      ...doc,
      imdb: { ...doc.imdb, rating: sameNumber(write.rating) },
      revision: ((doc.revision as number | undefined) ?? 0) + write.writes,
      writeId: expect.anything(),
    };
  });
}

describe('fuzzing every RPC', () => {
  const world = fuzzWorld(TOKEN);
  const oracle = new FuzzOracle(world);
  const params = { seed: SEED, path: PATH };
  let t: TestApp;
  let client: RawGrpcClient;
  let errorLog: jest.SpyInstance;
  let url: string;
  let before: MetricsScrape;
  let cases = 0;
  const started = performance.now();

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN: TOKEN }, movies: world.docs });
    client = new RawGrpcClient(t.address);
    errorLog = jest.spyOn(t.app.get(Logger), 'error');
    url = metricsUrl(t.app);
    before = await MetricsScrape.of(url);
    console.log(
      `fuzz: ${RUNS} cases, seed ${SEED} (replay: FUZZ_SEED=${SEED} npm run fuzz -- ${RUNS})`,
    );
  });

  afterAll(async () => {
    const seconds = (performance.now() - started) / 1000;
    const tally = [...oracle.tally].map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(
      `fuzz: ${cases} calls in ${seconds.toFixed(1)} s (${(cases / seconds).toFixed(0)}/s): ${tally}`,
    );
    client?.close();
    await t?.close();
  });

  async function send(c: FuzzCase): Promise<void> {
    cases += 1;
    const logged = errorLog.mock.calls.length;
    const bytes = caseBytes(c);
    const metadata = toGrpcMetadata(c.metadata);
    const path = RPC_PATHS[c.rpc];
    const timeout = c.rpc === 'RunBenchmark' ? BENCHMARK_TIMEOUT_MS : CALL_TIMEOUT_MS;
    const outcome = await {
      unary: () => client.unary(path, bytes, metadata, timeout),
      'server-stream': () => client.firstMessage(path, bytes, metadata, timeout),
      bidi: () => client.oneRequest(path, bytes, metadata, timeout),
    }[CALL_SHAPES[c.rpc]]();
    const problems = oracle.judge(c, bytes, outcome);
    // "Anything unknown is logged": an error logged while serving the case is one the case caused.
    for (const [message] of errorLog.mock.calls.slice(logged))
      problems.push(`the app logged an error: ${String(message)}`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }

  async function expectServing(): Promise<void> {
    await expect(t.api.getCacheStats()).resolves.toMatchObject({ redisOk: true, mongoOk: true });
    expect(await checkHealth(t.address)).toBe('SERVING');
  }

  it.each(RPCS)(
    '%s: no crash, no INTERNAL, no internals in a status, nothing done without the token',
    async (rpc) => {
      const numRuns = Math.max(1, Math.round(RUNS * SHARES[rpc]));
      await fc.assert(fc.asyncProperty(fuzzCase(rpc, world), send), { ...params, numRuns });
      await expectServing();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'holds with every RPC interleaved',
    async () => {
      const any = fc.oneof(...RPCS.map((rpc) => fuzzCase(rpc, world)));
      const numRuns = Math.max(1, Math.round(RUNS * INTERLEAVED));
      await fc.assert(fc.asyncProperty(any, send), { ...params, numRuns });
      await expectServing();
    },
    TEST_TIMEOUT_MS,
  );

  it('changed only the acknowledged ratings, ran benchmarks only when authorised, closed its streams, logged no error', async () => {
    const stored = await t.movies.find().sort({ _id: 1 }).toArray();
    const inserted = [...world.docs].sort((a, b) =>
      a._id.toHexString().localeCompare(b._id.toHexString()),
    );
    expect(stored).toEqual(expectedDocs(inserted, oracle.ratings));

    const after = await MetricsScrape.of(url);
    const runs = (outcome: string) =>
      after.sum('movie_benchmark_runs_total', { outcome }) -
      before.sum('movie_benchmark_runs_total', { outcome });
    // Every unauthorised call was judged UNAUTHENTICATED; every run the server made returned OK.
    expect({
      completed: runs('completed'),
      cancelled: runs('cancelled'),
      failed: runs('failed'),
    }).toEqual({
      completed: oracle.benchmarksRun,
      cancelled: 0,
      failed: 0,
    });
    expect(after.sum('movie_grpc_requests_total', { code: 'INTERNAL' })).toBe(0);
    expect(errorLog.mock.calls).toEqual([]);
    // Every stream the server began was finished there too (the observer counts each once done).
    const finished = async () => {
      const now = await MetricsScrape.of(url);
      return [...oracle.streamsBegun.keys()].map((method) => [
        method,
        now.sum('movie_grpc_requests_total', { method }) -
          before.sum('movie_grpc_requests_total', { method }),
      ]);
    };
    const begun = [...oracle.streamsBegun];
    await until(
      async () => JSON.stringify(await finished()) === JSON.stringify(begun),
      5_000,
    ).catch(() => undefined);
    expect(await finished()).toEqual(begun);
    await until(async () => (await t.api.getCacheStats()).trendingStreams === 0, 5_000);
    await expectServing();
  });
});
