import fc from 'fast-check';
import { CHANGE_FEED_HEALTH } from '../../src/ops/health.monitor';
import { withinBenchmarkBudget, type FuzzBody, type FuzzCase, type Rpc } from './fuzz-cases';
import { fuzzMetadata } from './fuzz-metadata';
import {
  either,
  reflectionRequests,
  type Request,
  type RequestArbitraries,
} from './fuzz-reflection-requests';
import { encodeWire, lengthDelimited, WIRE, type WireMessage } from './fuzz-protobuf';
import { REFLECTED, UNKNOWN_NAMES } from './fuzz-streams';
import type { FuzzWorld } from './fuzz-world';
import {
  anyPayload,
  edgeDouble,
  edgeInt32,
  edgeString,
  doublesAround,
  intsAround,
  typedPayload,
  unknownFieldNumber,
  type Scalar,
} from './fuzz-values';

const REFLECTION_FIELDS: Record<number, Scalar> = {
  ...{ 1: 'string', 3: 'string', 4: 'string' },
  ...{ 5: 'string', 6: 'string', 7: 'string' },
};
/** A field holding a message: the fields of that RPC's request. */
type Nested = { message: Rpc };
/**
 * Field number → wire-level type, from proto/movies/v1/movie_service.proto, health.proto and
 * reflection.proto (whose field 5, a message, is length-delimited like a string).
 */
const FIELDS: Record<Rpc, Record<number, Scalar | Nested>> = {
  GetMovie: { 1: 'string', 2: 'string', 3: 'varint' },
  BatchGetMovies: { 1: { message: 'GetMovie' } },
  UpdateRating: { 1: 'string', 2: 'string', 3: 'varint', 4: 'double' },
  StreamTrending: { 1: 'varint', 2: 'varint', 3: 'varint', 4: 'varint' },
  RunBenchmark: {
    ...{ 1: 'varint', 2: 'varint', 3: 'varint', 4: 'varint' },
    ...{ 5: 'double', 6: 'varint', 7: 'varint', 8: 'varint' },
  },
  GetCacheStats: {},
  HealthCheck: { 1: 'string' },
  HealthWatch: { 1: 'string' },
  HealthList: {},
  ReflectionV1: REFLECTION_FIELDS,
  ReflectionV1Alpha: REFLECTION_FIELDS,
};

const small = (max: number) =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) }, fc.integer({ min: 1, max }));

function requestArbitraries(world: FuzzWorld): Record<Rpc, RequestArbitraries> {
  const movie = fc.constantFrom(...world.movies);
  const ids = fc.oneof(
    movie.map((m) => m.id),
    movie.map((m) => m.id.toUpperCase()),
  );
  const titles = movie.map((m) => m.title);
  const years = fc.constantFrom(...world.movies.flatMap((m) => (m.year ? [m.year] : [])));
  const lookup: fc.Arbitrary<Request> = fc.oneof(
    ids.map((id) => ({ id })),
    titles.map((title) => ({ title })),
    movie.filter((m) => m.year !== undefined).map((m) => ({ title: m.title, year: m.year })),
  );
  const anyLookup = fc.record(
    {
      id: either(ids, edgeString),
      title: either(titles, edgeString),
      year: either(years, edgeInt32),
    },
    { requiredKeys: [] },
  );
  const rating = fc.double({ min: 0, max: 10, noNaN: true });
  const trending = {
    limit: fc.integer({ min: 0, max: 100 }),
    windowSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 86_400 })),
    intervalMs: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 60_000 })),
    includeMovies: fc.boolean(),
  };
  const benchmark = {
    requests: small(200),
    concurrency: fc.oneof(fc.constant(0), small(256)),
    keySpace: fc.oneof(fc.constant(0), small(100_000)),
    distribution: fc.integer({ min: 0, max: 3 }),
    zipfExponent: fc.double({ min: 0, max: 10, noNaN: true }),
    seed: fc.oneof(fc.constant(0), fc.maxSafeNat()),
    warmStart: fc.boolean(),
    compareUncached: fc.boolean(),
  };
  const edges = (
    fields: Record<string, fc.Arbitrary<unknown>>,
    edge: Record<string, fc.Arbitrary<unknown>>,
  ) =>
    fc.record(
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, either(v, edge[k] ?? v)])),
      { requiredKeys: [] },
    );
  const healthServices = fc.constantFrom('', 'movies.v1.MovieService');
  const watched = fc.oneof(
    edgeString,
    fc.constantFrom(CHANGE_FEED_HEALTH, ...UNKNOWN_NAMES, ...REFLECTED.services),
  );

  // Each field's edges: mostly its own bounds (the proto's, or the code's), else any edge.
  const lookupEdges = {
    id: edgeString,
    title: edgeString,
    year: near(intsAround(0, 1850, 2200), edgeInt32),
  };
  const trendingEdges = {
    limit: near(intsAround(0, 100), edgeInt32),
    windowSeconds: near(intsAround(0, 86_400), edgeInt32),
    intervalMs: near(intsAround(0, 100, 60_000), edgeInt32),
  };
  const benchmarkEdges = {
    requests: near(intsAround(0, 1_000_000), edgeInt32),
    concurrency: near(intsAround(0, 256), edgeInt32),
    keySpace: near(intsAround(0, 100_000), edgeInt32),
    distribution: near(intsAround(0, 3), edgeInt32),
    zipfExponent: near(doublesAround(0, 10), edgeDouble),
    seed: fc.constantFrom(2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63),
  };
  const updateRating = fc.tuple(lookup, rating).map(([l, r]) => ({ ...l, rating: r }));
  // Batches: a few lookups (duplicates likely: the world is small), or exactly the 500 allowed.
  const lookups = fc.oneof(
    { weight: 9, arbitrary: fc.array(lookup, { minLength: 1, maxLength: 20 }) },
    fc
      .array(lookup, { minLength: 1, maxLength: 5 })
      .map((some) => Array.from({ length: 500 }, (_, i) => some[i % some.length])),
  );
  const batch = {
    valid: lookups.map((ls) => ({ lookups: ls })),
    // One lookup on an edge (its own INVALID_ARGUMENT or NOT_FOUND), or a count past the bounds.
    oneOff: fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(lookups, oneOff(lookup, lookupEdges), fc.nat())
          .map(([ls, edge, at]) => {
            const i = at % (ls.length + 1);
            return { lookups: [...ls.slice(0, i), edge, ...ls.slice(i)] };
          }),
      },
      fc
        .tuple(lookup, fc.constantFrom(0, 501, 502))
        .map(([l, n]) => ({ lookups: Array.from({ length: n }, () => l) })),
    ),
    any: fc.array(anyLookup, { maxLength: 8 }).map((ls) => ({ lookups: ls })),
  };
  const reflection = reflectionRequests();

  return {
    GetMovie: { valid: lookup, oneOff: oneOff(lookup, lookupEdges), any: anyLookup },
    BatchGetMovies: batch,
    UpdateRating: {
      valid: updateRating,
      oneOff: oneOff(updateRating, {
        ...lookupEdges,
        rating: near(doublesAround(0, 10), edgeDouble),
      }),
      any: fc
        .tuple(anyLookup, fc.option(either(rating, edgeDouble), { nil: undefined }))
        .map(([l, r]) => (r === undefined ? l : { ...l, rating: r })),
    },
    StreamTrending: {
      valid: fc.record(trending),
      oneOff: oneOff(fc.record(trending), trendingEdges),
      any: edges(trending, trendingEdges),
    },
    RunBenchmark: {
      valid: fc.record(benchmark),
      oneOff: oneOff(fc.record(benchmark), benchmarkEdges),
      any: edges(benchmark, benchmarkEdges),
    },
    GetCacheStats: { valid: fc.constant({}), oneOff: fc.constant({}), any: fc.constant({}) },
    HealthCheck: {
      valid: healthServices.map((service) => ({ service })),
      oneOff: edgeString.map((service) => ({ service })),
      any: fc.record({ service: either(healthServices, edgeString) }, { requiredKeys: [] }),
    },
    HealthWatch: {
      valid: healthServices.map((service) => ({ service })),
      oneOff: watched.map((service) => ({ service })),
      any: fc.record({ service: either(healthServices, watched) }, { requiredKeys: [] }),
    },
    HealthList: { valid: fc.constant({}), oneOff: fc.constant({}), any: fc.constant({}) },
    ReflectionV1: reflection,
    ReflectionV1Alpha: reflection,
  };
}

const near = <T>(bounds: fc.Arbitrary<T>, edge: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: bounds }, edge);

/** A valid request with one field replaced by an edge value: each check met on its own. */
function oneOff(valid: fc.Arbitrary<Request>, edges: Record<string, fc.Arbitrary<unknown>>) {
  return fc
    .tuple(valid, fc.constantFrom(...Object.keys(edges)))
    .chain(([request, key]) => edges[key].map((value) => ({ ...request, [key]: value })));
}

/** A message field by field: its own fields with edge values or wrong wire types, unknown fields. */
function wireMessage(rpc: Rpc, strings: fc.Arbitrary<string>): fc.Arbitrary<WireMessage> {
  const known = Object.entries(FIELDS[rpc]).map(([field, type]) =>
    fc
      .oneof({ weight: 4, arbitrary: payloadOf(type, strings) }, anyPayload)
      .map((p) => ({ field: Number(field), ...p })),
  );
  const unknown = fc.tuple(unknownFieldNumber, anyPayload).map(([field, p]) => ({ field, ...p }));
  const field = known.length
    ? fc.oneof({ weight: 4, arbitrary: fc.oneof(...known) }, unknown)
    : unknown;
  return fc.record({
    fields: fc.array(field, { maxLength: 6 }),
    cut: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 4 })),
    junk: fc.oneof(
      { weight: 6, arbitrary: fc.constant(new Uint8Array()) },
      fc.uint8Array({ maxLength: 8 }),
    ),
  });
}

/** A field's payload of its own wire type: a scalar's edge value, or a message written field by field. */
function payloadOf(type: Scalar | Nested, strings: fc.Arbitrary<string>) {
  if (typeof type === 'string') return typedPayload(type, strings);
  return fc
    .array(wireMessage(type.message, strings), { minLength: 1, maxLength: 1 })
    .map(([message]) => ({ wire: WIRE.LEN, payload: lengthDelimited(encodeWire(message)) }));
}

/** Cases for one RPC: typed requests (valid, or with edge fields), malformed messages, random bytes. */
export function fuzzCase(rpc: Rpc, world: FuzzWorld): fc.Arbitrary<FuzzCase> {
  const requests = requestArbitraries(world)[rpc];
  const strings = fc.oneof(
    edgeString,
    fc.constantFrom(...world.movies.flatMap((m) => [m.id, m.title])),
  );
  const body = fc.oneof(
    { weight: 20, arbitrary: requests.valid.map((request) => typed(request, true)) },
    { weight: 45, arbitrary: requests.oneOff.map((request) => typed(request, false)) },
    { weight: 15, arbitrary: requests.any.map((request) => typed(request, false)) },
    {
      weight: 25,
      arbitrary: wireMessage(rpc, strings).map((message) => untyped({ kind: 'wire', message })),
    },
    {
      weight: 10,
      arbitrary: fc
        .oneof(
          { weight: 9, arbitrary: fc.uint8Array({ maxLength: 64 }) },
          fc.uint8Array({ maxLength: 4096 }),
        )
        .map((bytes) => untyped({ kind: 'bytes', bytes })),
    },
    { weight: 1, arbitrary: fc.constant(untyped({ kind: 'oversized' })) },
  );
  return fc
    .record({ body, metadata: fuzzMetadata(world.token) })
    .map(({ body: { body: b, valid }, metadata }) => ({ rpc, body: b, metadata, valid }))
    .map(withinBenchmarkBudget(world.token));
}

const typed = (request: Request, valid: boolean) => ({
  body: { kind: 'typed', request } as FuzzBody,
  valid,
});
const untyped = (body: FuzzBody) => ({ body, valid: false });
