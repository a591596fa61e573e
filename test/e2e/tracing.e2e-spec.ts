import { Metadata } from '@grpc/grpc-js';
import { mongo } from 'mongoose';
import { authMetadata } from '../../src/grpc/grpc-client';
import { MOVIES_COLLECTION } from '../../src/movies/movie.schema';
import { movieFactory } from '../factories/movie.factory';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { buildService, spawnService, type ServiceProcess } from '../support/service-process';
import { inspectRedis, isolatedMongoUri, testServers } from '../support/test-env';
import { until } from '../support/wait';

const SERVER = 2; // SpanKind.SERVER
const GET_MOVIE = 'movies.v1.MovieService/GetMovie';
/** The stable database conventions' name for `db.system`. */
const DB_SYSTEM = 'db.system.name';

/** The service on the shared test servers, exporting its spans to `receiver`. */
async function tracedService(
  receiver: OtlpReceiver,
  movies: mongo.Document[],
  env: Record<string, string> = {},
  mongoUri = isolatedMongoUri(testServers().mongoUri),
): Promise<ServiceProcess> {
  const client = await new mongo.MongoClient(mongoUri).connect();
  await client.db().collection(MOVIES_COLLECTION).insertMany(movies);
  await client.close();
  return spawnService({
    MONGODB_URI: mongoUri,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'movie-cache-under-test',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    CHANGE_FEED: 'off',
    FILL_LEASE_MS: '300',
    ...env,
  });
}

describe('traces (OTLP to a collector the test hosts)', () => {
  const movie = movieFactory({ title: 'Traced' });
  const titled = movieFactory({ title: 'Traced By Title' });
  const rated = movieFactory({ title: 'Traced Rating', rating: 6 });
  const waited = movieFactory({ title: 'Traced Lease Wait' });
  let receiver: OtlpReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    buildService();
    receiver = await startOtlpReceiver();
    service = await tracedService(receiver, [movie, titled, rated, waited], {
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  /** The server span of a call answered after `since` spans arrived, and its whole trace. */
  async function traceOf(
    name: string,
    since: number,
    match: (span: ReceivedSpan) => boolean = () => true,
  ) {
    let root: ReceivedSpan | undefined;
    await until(async () => {
      root = receiver.spans
        .slice(since)
        .find((s) => s.name === name && s.kind === SERVER && match(s));
      return root !== undefined;
    }, 10_000);
    const trace = () => receiver.spans.filter((s) => s.traceId === root!.traceId);
    // Children end before their parent, and a batch holds whole traces here; wait one more beat.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { root: root!, spans: trace() };
  }

  const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
    spans.filter((s) => s.parentSpanId === parent.spanId);
  const descendantsOf = (spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] =>
    childrenOf(spans, parent).flatMap((child) => [child, ...descendantsOf(spans, child)]);

  it('a miss: server span → cache.lookup → cache.miss (lease held, fill stored) → Redis and MongoDB client spans', async () => {
    const since = receiver.spans.length;
    await service.api.getMovie({ id: movie._id.toHexString() });

    const { root, spans } = await traceOf(GET_MOVIE, since);

    expect(root).toMatchObject({
      service: 'movie-cache-under-test',
      parentSpanId: undefined,
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': 'movies.v1.MovieService',
        'rpc.method': 'GetMovie',
        'rpc.grpc.status_code': 0,
        'cache.outcome': 'miss',
      },
    });
    const [lookup] = childrenOf(spans, root);
    expect(lookup).toMatchObject({
      name: 'cache.lookup',
      attributes: { 'cache.lookup': 'id', 'cache.outcome': 'miss' },
    });
    const missed = descendantsOf(spans, lookup).find((s) => s.name === 'cache.miss');
    expect(missed?.attributes).toMatchObject({
      'cache.lease': 'held',
      'cache.fill': 'stored',
      'cache.fills': ['stored'],
      'cache.reads': 1,
    });
    const below = descendantsOf(spans, root);
    const mongoFind = below.find((s) => s.attributes[DB_SYSTEM] === 'mongodb');
    expect(mongoFind).toBeDefined();
    expect(descendantsOf(spans, missed!)).toContain(mongoFind);
    expect(below.filter((s) => s.attributes[DB_SYSTEM] === 'redis').length).toBeGreaterThan(0);
  });

  it('a near-cache hit: the server span alone, naming the outcome and the tier', async () => {
    await service.api.getMovie({ id: movie._id.toHexString() });
    const since = receiver.spans.length;
    const { cacheTier } = await service.api.getMovie({ id: movie._id.toHexString() });
    expect(cacheTier).toBe(1); // CACHE_TIER_LOCAL

    const { root, spans } = await traceOf(
      GET_MOVIE,
      since,
      (s) => s.attributes['cache.tier'] === 'local',
    );

    expect(root.attributes).toMatchObject({ 'cache.outcome': 'hit', 'cache.tier': 'local' });
    expect(spans).toEqual([root]);
  });

  it('a title miss: cache.title_query reads MongoDB by title, then the id is read', async () => {
    const since = receiver.spans.length;
    await service.api.getMovie({ title: 'Traced By Title' });

    const { root, spans } = await traceOf(GET_MOVIE, since);

    expect(root.attributes['cache.outcome']).toBe('miss');
    const [lookup] = childrenOf(spans, root);
    expect(lookup.attributes).toMatchObject({ 'cache.lookup': 'title', 'cache.outcome': 'miss' });
    const query = descendantsOf(spans, lookup).find((s) => s.name === 'cache.title_query');
    expect(query).toBeDefined();
    const mongoSpans = descendantsOf(spans, query!).filter(
      (s) => s.attributes[DB_SYSTEM] === 'mongodb',
    );
    expect(mongoSpans.length).toBeGreaterThan(0);
  });

  it('a lease held by another instance: the wait is its own span', async () => {
    const id = waited._id.toHexString();
    const redis = inspectRedis(testServers().redisUrl);
    await redis.set(`lease:{${id}}`, 'another-instance', 'PX', 250);
    await redis.quit();
    const since = receiver.spans.length;
    await service.api.getMovie({ id });

    const { root, spans } = await traceOf(GET_MOVIE, since);

    const missed = descendantsOf(spans, root).find((s) => s.name === 'cache.miss');
    expect(missed?.attributes['cache.lease']).toBe('other_instance');
    const [wait] = childrenOf(spans, missed!).filter((s) => s.name === 'cache.lease_wait');
    expect(wait?.attributes['cache.lease_wait.filled']).toBe(false);
    // Nobody filled: this instance read MongoDB itself, after the wait.
    expect(missed?.attributes['cache.fill']).toBe('stored');
  });

  it('UpdateRating: server span → cache.write_through → the MongoDB update and the Redis install', async () => {
    const since = receiver.spans.length;
    await service.api.updateRating({ id: rated._id.toHexString(), rating: 8.5 });

    const { root, spans } = await traceOf('movies.v1.MovieService/UpdateRating', since);

    expect(root.attributes).toMatchObject({
      'rpc.method': 'UpdateRating',
      'rpc.grpc.status_code': 0,
    });
    const [write] = childrenOf(spans, root);
    expect(write).toMatchObject({
      name: 'cache.write_through',
      attributes: { 'cache.refreshed': true },
    });
    const below = descendantsOf(spans, write);
    expect(below.some((s) => s.attributes[DB_SYSTEM] === 'mongodb')).toBe(true);
    expect(below.some((s) => s.attributes[DB_SYSTEM] === 'redis')).toBe(true);
  });

  it('continues a client’s W3C traceparent: the server span is the child of the caller’s span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const metadata: Metadata = authMetadata();
    metadata.set('traceparent', `00-${traceId}-${parentId}-01`);
    metadata.set('tracestate', 'vendor=opaque');
    await service.api.getMovie({ id: movie._id.toHexString() }, metadata);

    const { root } = await traceOf(GET_MOVIE, 0, (s) => s.traceId === traceId);

    expect(root.parentSpanId).toBe(parentId);
    expect(root.traceState).toBe('vendor=opaque');
  });

  it('a NOT_FOUND is a finished call, not a server error', async () => {
    const since = receiver.spans.length;
    await service.api.getMovie({ title: 'No Such Traced Movie' }).catch(() => undefined);

    const { root } = await traceOf(GET_MOVIE, since);

    expect(root.attributes['rpc.grpc.status_code']).toBe(5);
    expect(root.status.code ?? 0).not.toBe(2); // STATUS_CODE_ERROR
  });

  it('joins log lines to the trace: a call’s log line carries its trace_id and span_id', async () => {
    const since = receiver.spans.length;
    await service.api.getMovie({ id: movie._id.toHexString() });
    const { root } = await traceOf(GET_MOVIE, since);

    await until(async () => service.output().includes(root.traceId));
    const line = service
      .output()
      .split('\n')
      .find((l) => l.includes(root.traceId));
    expect(JSON.parse(line!)).toMatchObject({
      msg: 'rpc',
      method: 'GetMovie',
      trace_id: root.traceId,
      span_id: root.spanId,
    });
  });
});

describe('sampling (parentbased_traceidratio at 0)', () => {
  const movies = [
    movieFactory({ title: 'Unsampled Hit' }),
    movieFactory({ title: 'Unsampled Miss' }),
  ];
  let receiver: OtlpReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    buildService();
    receiver = await startOtlpReceiver();
    service = await tracedService(receiver, movies, {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  it('an unsampled call leaves no span, not even of its misses; a sampled caller’s trace is still continued', async () => {
    const [hit, missed] = movies.map((m) => m._id.toHexString());
    for (let i = 0; i < 20; i += 1) await service.api.getMovie({ id: hit });
    await service.api.getMovie({ id: missed }); // a miss: Redis, MongoDB, a fill
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const metadata: Metadata = authMetadata();
    metadata.set('traceparent', `00-${traceId}-b7ad6b7169203331-01`);
    await service.api.getMovie({ id: hit }, metadata);

    await until(async () => receiver.spans.some((s) => s.traceId === traceId), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.spans.filter((s) => s.traceId !== traceId)).toEqual([]);
    expect(receiver.spans.map((s) => s.name)).toEqual([GET_MOVIE]);
  });
});

const postgresUrl = process.env.TEST_POSTGRES_URL;

(postgresUrl ? describe : describe.skip)('the change feed in a trace', () => {
  const movie = movieFactory({ title: 'Traced Direct Write', rating: 4 });
  const mongoUri = isolatedMongoUri(testServers().mongoUri);
  let receiver: OtlpReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    buildService();
    receiver = await startOtlpReceiver();
    // Another spec's feed token (another database's position) would be resumed from otherwise.
    const redis = inspectRedis(testServers().redisUrl);
    await redis.flushdb();
    redis.disconnect();
    service = await tracedService(
      receiver,
      [movie],
      { CHANGE_FEED: 'postgres', CHANGE_FEED_POSTGRES_URL: postgresUrl! },
      mongoUri,
    );
    await until(async () => (await service.api.getCacheStats()).changeFeed?.state === 'leading');
  });
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  it('a batch of direct writes is a root span of its own, with the Redis repairs under it', async () => {
    await service.api.getMovie({ id: movie._id.toHexString() });
    const client = await new mongo.MongoClient(mongoUri).connect();
    await client
      .db()
      .collection(MOVIES_COLLECTION)
      .updateOne({ _id: movie._id }, { $set: { 'imdb.rating': 9.1 } });
    await client.close();

    let batch: ReceivedSpan | undefined;
    await until(async () => {
      batch = receiver.spans.find((s) => s.name === 'change_feed.apply');
      return batch !== undefined;
    }, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(batch).toMatchObject({
      parentSpanId: undefined,
      attributes: { 'change_feed.source': 'postgres-outbox', 'change_feed.ops': ['update'] },
    });
    const below = receiver.spans.filter((s) => s.parentSpanId === batch!.spanId);
    expect(below.some((s) => s.attributes[DB_SYSTEM] === 'redis')).toBe(true);
  });
});

describe('trace export protocols', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    buildService();
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver?.close());

  it.each([
    ['http/protobuf', 'http', 'application/x-protobuf'],
    ['grpc', 'grpc', undefined],
  ] as const)('exports over %s', async (protocol, via, contentType) => {
    const movie = movieFactory({ title: `Exported over ${protocol}` });
    const service = await tracedService(receiver, [movie], {
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      ...(via === 'grpc' ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcUrl } : {}),
    });
    try {
      await service.api.getMovie({ id: movie._id.toHexString() });
      const named = (body: Buffer) => body.includes(Buffer.from(GET_MOVIE));
      await until(async () => receiver.exports.some((e) => e.via === via && named(e.body)), 10_000);
      const sent = receiver.exports.find((e) => e.via === via && named(e.body))!;
      expect(sent.contentType).toBe(contentType);
      expect(sent.body.includes(Buffer.from('movie-cache-under-test'))).toBe(true);
    } finally {
      await service.stop();
    }
  });
});
