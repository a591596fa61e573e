import { status } from '@grpc/grpc-js';
import {
  BatchGetMoviesResponse,
  GetCacheStatsResponse,
  GetMovieResponse,
  RunBenchmarkResponse,
  StreamTrendingResponse,
  UpdateRatingResponse,
} from '../../src/generated/client/movies/v1/movie_service';
import { MAX_MESSAGE_BYTES, MOVIE_SERVICE_FULL_NAME } from '../../src/grpc/grpc-channel';
import { CHANGE_FEED_HEALTH } from '../../src/ops/health.monitor';
import type { CallOutcome } from './fuzz-client';
import {
  ADMIN_RPCS,
  authorised,
  benchmarkWorkload,
  CALL_SHAPES,
  decodeHealthResponse,
  decodeRequest,
  REFLECTION_VERSIONS,
  RPC_PATHS,
  type FuzzCase,
  type Rpc,
} from './fuzz-cases';
import {
  judgeReflection,
  judgeUnreadable,
  reflectionErrorMessage,
  type ReflectionRequest,
} from './fuzz-streams';
import { titleMatch, type FuzzWorld } from './fuzz-world';

/** Codes a decodable request may get, with the rights it needs, from a healthy server. */
const ALLOWED: Record<Rpc, status[]> = {
  GetMovie: [status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND],
  BatchGetMovies: [status.OK, status.INVALID_ARGUMENT],
  UpdateRating: [status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND],
  StreamTrending: [status.OK, status.INVALID_ARGUMENT],
  RunBenchmark: [status.OK, status.INVALID_ARGUMENT],
  GetCacheStats: [status.OK],
  HealthCheck: [status.OK, status.NOT_FOUND],
  HealthWatch: [status.OK],
  HealthList: [status.OK],
  ReflectionV1: [status.OK],
  ReflectionV1Alpha: [status.OK],
};

/** Signs of internals in a status: stack frames, source positions, paths, error classes. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /(^|\n)\s+at \S/],
  ['a source position', /\.[cm]?[jt]s:\d+/],
  ['node_modules', /node_modules/],
  ['an absolute path', /(\/work\/|\/home\/|\/tmp\/|\/usr\/|file:\/\/)/],
  [
    'an error class',
    /\b(TypeError|RangeError|ReferenceError|SyntaxError|Mongo\w*Error|BSON\w*Error|ReplyError)\b/,
  ],
];

const SERVING = 1;
/** The statuses the app publishes, by name: its dependencies, and the change feed. */
const PUBLISHED: Record<string, string[]> = {
  '': ['SERVING'],
  [MOVIE_SERVICE_FULL_NAME]: ['SERVING'],
  [CHANGE_FEED_HEALTH]: ['SERVING', 'NOT_SERVING'],
};

const outside = (value: unknown, min: number, max: number) =>
  typeof value !== 'number' || !(value >= min && value <= max);

/**
 * What the proto's comments call invalid, read from the contract rather than the code: such a
 * request must get INVALID_ARGUMENT (and so cannot write or run anything).
 */
function breaksContract(rpc: Rpc, r: Record<string, unknown>): string | undefined {
  switch (rpc) {
    case 'GetMovie':
    case 'UpdateRating':
      if (Boolean(r.id) === Boolean(r.title)) return 'exactly one of id and title must be set';
      if (rpc === 'UpdateRating' && outside(r.rating, 0, 10)) return 'rating is 0.0 to 10.0';
      return undefined;
    case 'BatchGetMovies':
      if (outside((r.lookups as unknown[]).length, 1, 500)) return 'lookups holds 1 to 500';
      return undefined;
    case 'StreamTrending':
      if (outside(r.limit, 0, 100)) return 'limit is 1 to 100 (0 means 10)';
      if (outside(r.windowSeconds, 0, 86_400)) return 'window_seconds is 0 to 86400';
      if (r.intervalMs !== 0 && outside(r.intervalMs, 100, 60_000))
        return 'interval_ms is 0 or 100 to 60000';
      return undefined;
    case 'RunBenchmark':
      if (outside(r.requests, 0, 1_000_000)) return 'requests is at most 1000000';
      if (outside(r.concurrency, 0, 256)) return 'concurrency is at most 256';
      if (outside(r.distribution, 0, 3)) return 'distribution is one of the enum values';
      return undefined;
    default:
      return undefined;
  }
}

/** The ratings acknowledged by UpdateRating calls that returned OK, per movie id. */
export type RatingLedger = Map<string, { rating: number; writes: number }>;

/** Judges one call at a time, keeping what the final checks need: acknowledged writes and runs. */
export class FuzzOracle {
  readonly ratings: RatingLedger = new Map();
  /** RunBenchmark calls that returned OK. */
  benchmarksRun = 0;
  /** Streams the server began (their message was not refused first), by method name. */
  readonly streamsBegun = new Map<string, number>();
  /** Calls by RPC and status name, for the summary. */
  readonly tally = new Map<string, number>();

  constructor(private readonly world: FuzzWorld) {}

  /** What is wrong with the outcome of the case (sent as `bytes`); empty when nothing is. */
  judge(c: FuzzCase, bytes: Buffer, outcome: CallOutcome): string[] {
    const key = `${c.rpc} ${status[outcome.code]}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    const oversized = bytes.length > MAX_MESSAGE_BYTES;
    // A server stream's handler starts once its message is read; a bidirectional one's at once.
    const shape = CALL_SHAPES[c.rpc];
    if (shape === 'bidi' || (shape === 'server-stream' && !oversized)) {
      const method = RPC_PATHS[c.rpc].slice(RPC_PATHS[c.rpc].lastIndexOf('/') + 1);
      this.streamsBegun.set(method, (this.streamsBegun.get(method) ?? 0) + 1);
    }
    const request = oversized ? undefined : decodeRequest(c.rpc, bytes);
    const problems = [...this.leaks(c, bytes, `${outcome.details}\n${outcome.trailers}`)];
    const expected = this.expectedCodes(c, request, oversized);
    if (!expected.includes(outcome.code)) {
      const want = expected.map((code) => status[code]).join(' or ');
      const why = request && breaksContract(c.rpc, request);
      problems.push(
        `${status[outcome.code]} "${outcome.details}" where ${want} was expected${why ? ` (${why})` : ''}`,
      );
    }
    if (outcome.code === status.OK && shape === 'bidi' && outcome.messages !== 1)
      problems.push(`${outcome.messages} answers to one request`);
    const version = REFLECTION_VERSIONS[c.rpc];
    if (outcome.code === status.OK && version && outcome.response) {
      problems.push(...this.leaks(c, bytes, reflectionErrorMessage(version, outcome.response)));
      if (!request && !oversized) problems.push(...judgeUnreadable(version, outcome.response));
    }
    if (outcome.code === status.OK && request) {
      try {
        problems.push(...this.judgeResponse(c, request, outcome.response ?? Buffer.alloc(0)));
      } catch (error) {
        problems.push(`the response could not be decoded: ${String(error)}`);
      }
    }
    return problems;
  }

  /** The rating a read must answer with: the last acknowledged write, else the inserted one. */
  expectedRating(id: string): number | undefined {
    return this.ratings.get(id)?.rating ?? this.world.movies.find((m) => m.id === id)?.rating;
  }

  private expectedCodes(
    c: FuzzCase,
    request: Record<string, unknown> | undefined,
    oversized: boolean,
  ): status[] {
    if (oversized) return [status.RESOURCE_EXHAUSTED];
    // Reflection answers in-band: an unreadable message may get its INVALID_ARGUMENT there.
    if (!request)
      return REFLECTION_VERSIONS[c.rpc]
        ? [status.INVALID_ARGUMENT, status.OK]
        : [status.INVALID_ARGUMENT];
    if (ADMIN_RPCS.has(c.rpc) && !authorised(c.metadata, this.world.token))
      return [status.UNAUTHENTICATED];
    if (c.valid) return [status.OK];
    if (breaksContract(c.rpc, request)) return [status.INVALID_ARGUMENT];
    return ALLOWED[c.rpc];
  }

  /** Internals in `text` (a status, its trailers, an in-band error message). */
  private *leaks(c: FuzzCase, bytes: Buffer, text: string): Generator<string> {
    // A message may quote the input (a title not found): only what the input did not hold counts.
    const input = `${JSON.stringify(c)}\n${bytes.length > 65_536 ? '' : bytes.toString('utf8')}`;
    for (const [what, pattern] of LEAKS) {
      if (pattern.test(text) && !pattern.test(input))
        yield `${what} in the status: ${JSON.stringify(text)}`;
    }
  }

  private judgeResponse(c: FuzzCase, request: Record<string, unknown>, bytes: Buffer): string[] {
    switch (c.rpc) {
      case 'GetMovie': {
        const { movie } = GetMovieResponse.decode(bytes);
        if (!movie) return ['OK without a movie'];
        return [
          ...this.sameMovie(c, request, movie.id),
          ...this.freshRating(movie.id, movie.rating),
        ];
      }
      case 'BatchGetMovies':
        return this.judgeBatch(c, request.lookups as Array<Record<string, unknown>>, bytes);
      case 'UpdateRating': {
        const { movie } = UpdateRatingResponse.decode(bytes);
        if (!movie) return ['OK without a movie'];
        if (!this.world.movies.some((m) => m.id === movie.id))
          return [`updated unknown ${movie.id}`];
        const problems = this.sameMovie(c, request, movie.id);
        const rating = request.rating as number;
        if (movie.rating !== rating || !(rating >= 0 && rating <= 10))
          problems.push(`rating ${rating} acknowledged as ${movie.rating}`);
        const previous = this.ratings.get(movie.id);
        this.ratings.set(movie.id, { rating: movie.rating!, writes: (previous?.writes ?? 0) + 1 });
        return problems;
      }
      case 'StreamTrending': {
        const { entries } = StreamTrendingResponse.decode(bytes);
        const limit = (request.limit as number) || 10;
        const ranks = entries.map((e) => e.rank).join();
        const ordered = entries.map((_, i) => i + 1).join();
        const problems =
          entries.length > limit || ranks !== ordered
            ? [`a snapshot of ${entries.length} entries ranked ${ranks} for limit ${limit}`]
            : [];
        // Movies only when asked for, each the entry's own (not checked for freshness: a
        // snapshot is shared, read before the stream may have begun).
        for (const { movieId, movie } of entries)
          if (movie && (!request.includeMovies || movie.id !== movieId))
            problems.push(`entry ${movieId} carried movie ${movie.id}`);
        return problems;
      }
      case 'RunBenchmark': {
        this.benchmarksRun += 1;
        const report = RunBenchmarkResponse.decode(bytes);
        const workload = benchmarkWorkload(c, this.world.token);
        return report.errors > 0 || report.totalRequests !== workload?.requests
          ? [`a run of ${workload?.requests} requests reported ${JSON.stringify(report)}`]
          : [];
      }
      case 'GetCacheStats': {
        const stats = GetCacheStatsResponse.decode(bytes);
        return stats.redisOk && stats.mongoOk ? [] : [`stats say ${JSON.stringify(stats)}`];
      }
      case 'HealthCheck': {
        const serving = bytes.equals(Buffer.from([0x08, SERVING]));
        return serving ? [] : [`health answered ${bytes.toString('hex')}`];
      }
      case 'HealthWatch': {
        // The first message is the status now: an unpublished name is SERVICE_UNKNOWN.
        const service = request.service as string;
        const want = Object.hasOwn(PUBLISHED, service) ? PUBLISHED[service] : ['SERVICE_UNKNOWN'];
        const { status: got } = decodeHealthResponse(c.rpc, bytes);
        return want.includes(got!) ? [] : [`watching "${service}" began with ${got}`];
      }
      case 'HealthList': {
        const { statuses = {} } = decodeHealthResponse(c.rpc, bytes);
        const listed = Object.entries(statuses).map(([name, s]) => `${name}=${s.status}`);
        const wrong = Object.entries(PUBLISHED).some(
          ([name, allowed]) => !allowed.includes(statuses[name]?.status),
        );
        const extra = Object.keys(statuses).some((name) => !Object.hasOwn(PUBLISHED, name));
        return wrong || extra ? [`health listed ${listed.join(', ')}`] : [];
      }
      case 'ReflectionV1':
      case 'ReflectionV1Alpha':
        return judgeReflection(REFLECTION_VERSIONS[c.rpc]!, request as ReflectionRequest, bytes);
    }
  }

  /**
   * One result per lookup, in order: a lookup the contract rules out gets its own INVALID_ARGUMENT,
   * a valid one its movie (fresh), the rest a movie or their own INVALID_ARGUMENT or NOT_FOUND;
   * lookups of the same movie the same way get the same answer.
   */
  private judgeBatch(
    c: FuzzCase,
    lookups: Array<Record<string, unknown>>,
    bytes: Buffer,
  ): string[] {
    const { results } = BatchGetMoviesResponse.decode(bytes);
    if (results.length !== lookups.length)
      return [`${results.length} results for ${lookups.length} lookups`];
    const problems: string[] = [];
    const answers = new Map<string, string>();
    results.forEach(({ found, error }, i) => {
      const lookup = lookups[i];
      const where = `lookup ${i} ${JSON.stringify(lookup)}`;
      const invalid = breaksContract('GetMovie', lookup);
      if (error) {
        problems.push(
          ...[...this.leaks(c, Buffer.alloc(0), error.message)].map((p) => `${where}: ${p}`),
        );
        const allowed = invalid
          ? [status.INVALID_ARGUMENT]
          : c.valid
            ? []
            : [status.INVALID_ARGUMENT, status.NOT_FOUND];
        if (!allowed.includes(error.code))
          problems.push(`${where}: ${status[error.code] ?? error.code} "${error.message}"`);
      } else if (!found?.movie) {
        problems.push(`${where}: neither a movie nor an error`);
      } else if (invalid) {
        problems.push(
          `${where}: answered ${found.movie.id} where INVALID_ARGUMENT was expected (${invalid})`,
        );
      } else {
        const { movie } = found;
        const want = lookup.id
          ? String(lookup.id).toLowerCase()
          : titleMatch(this.world, lookup.title as string, (lookup.year as number) || undefined)
              ?.id;
        if (movie.id !== want)
          problems.push(`${where}: answered with movie ${movie.id}, not ${want}`);
        problems.push(...this.freshRating(movie.id, movie.rating).map((p) => `${where}: ${p}`));
      }
      const key = JSON.stringify([String(lookup.id).toLowerCase(), lookup.title, lookup.year]);
      const answer = JSON.stringify(found ? [found.movie?.id, found.movie?.revision] : error?.code);
      if ((answers.get(key) ?? answer) !== answer)
        problems.push(`${where}: answered ${answer}, its duplicate ${answers.get(key)}`);
      answers.set(key, answer);
    });
    return problems;
  }

  /** A valid lookup answers with the movie it names. */
  private sameMovie(c: FuzzCase, request: Record<string, unknown>, id: string): string[] {
    if (!c.valid) return [];
    const want = request.id
      ? String(request.id).toLowerCase()
      : titleMatch(this.world, request.title as string, (request.year as number) || undefined)?.id;
    return id === want ? [] : [`answered with movie ${id}, not ${want}`];
  }

  /** No read older than an acknowledged write (proto: GetMovie). */
  private freshRating(id: string, rating: number | undefined): string[] {
    const want = this.expectedRating(id);
    return rating === want ? [] : [`movie ${id} read with rating ${rating}, ${want} acknowledged`];
  }
}
