import { status, type Server, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CacheStatus, CacheTier } from '../generated/nest/movies/v1/movie_service';
import type { HotCount, MetricsService } from '../metrics/metrics.service';
import { isMalformedRequest } from './malformed-request';

const CACHE_LABEL: Partial<Record<number, string>> = {
  [CacheStatus.CACHE_STATUS_HIT]: 'hit',
  [CacheStatus.CACHE_STATUS_MISS]: 'miss',
  [CacheStatus.CACHE_STATUS_BYPASS]: 'bypass',
  [CacheStatus.CACHE_STATUS_STALE]: 'stale',
};

const TIER_LABEL: Partial<Record<number, string>> = {
  [CacheTier.CACHE_TIER_LOCAL]: 'local',
  [CacheTier.CACHE_TIER_REDIS]: 'redis',
};

const SUMMARY_EVERY_MS = 10_000;

const MALFORMED = {
  code: status.INVALID_ARGUMENT,
  details: 'request is not a valid protobuf message',
};

/** What a grpc-js handler is handed: a call, and for unary calls the callback. */
type Call = {
  request?: unknown;
  cancelled?: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
  write?: (...args: unknown[]) => boolean;
  end?: (...args: unknown[]) => void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
};
type Callback = (error: Partial<ServiceError> | null, value?: unknown, ...rest: unknown[]) => void;
type Handler = (call: Call, callback?: Callback) => void;

/** What a GetMovie answer says of the cache. */
type Answer = { cacheStatus?: number; cacheTier?: number };

/** Records one finished call: its status, duration and messages sent. */
type Finish = (code: status, messages?: number) => void;

/**
 * Wraps every handler the server registers: RPC metrics, a debug line per call and a summary every
 * 10 s, and INVALID_ARGUMENT for a request that is not a valid message (cheaper than a grpc-js
 * server interceptor: docs/benchmarks.md).
 */
export function observeCalls(server: Server, metrics: MetricsService, logger: Logger): void {
  let summary: Record<string, Record<string, number>> = {};
  setInterval(() => {
    if (Object.keys(summary).length === 0) return;
    logger.info({ calls: summary, seconds: SUMMARY_EVERY_MS / 1000 }, 'rpc summary');
    summary = {};
  }, SUMMARY_EVERY_MS).unref();

  // Counted in plain numbers: prom-client would hash the labels on every call.
  const rpcCounts = new Map<string, HotCount[]>();
  const rpcCount = (rpc: string, code: status) => {
    let byCode = rpcCounts.get(rpc);
    if (!byCode) rpcCounts.set(rpc, (byCode = []));
    return (byCode[code] ??= metrics.hotCount(metrics.rpcs, { method: rpc, code: status[code] }));
  };
  const lookups = new Map(
    Object.values(CACHE_LABEL).map((label) => [
      label,
      {
        count: metrics.hotCount(metrics.cacheLookups, { status: label! }),
        duration: metrics.getMovieDuration.labels(label!),
      },
    ]),
  );

  const hits = new Map(
    Object.entries(TIER_LABEL).map(([tier, label]) => [
      Number(tier),
      metrics.hotCount(metrics.cacheHits, { tier: label! }),
    ]),
  );

  /** Records one finished call that started at `started` (performance.now()). */
  const record = (rpc: string, started: number, code: status, answer?: Answer, messages = 0) => {
    const seconds = (performance.now() - started) / 1000;
    const cache = answer?.cacheStatus;
    const cacheStatus = cache === undefined ? undefined : CACHE_LABEL[cache];
    rpcCount(rpc, code).inc();
    if (answer?.cacheTier) hits.get(answer.cacheTier)?.inc();
    const lookup = cacheStatus && lookups.get(cacheStatus);
    if (lookup) {
      lookup.count.inc();
      lookup.duration.observe(seconds);
    }
    const byCode = (summary[rpc] ??= {});
    byCode[status[code]] = (byCode[status[code]] ?? 0) + 1;
    if (code !== status.INTERNAL && !logger.isLevelEnabled('debug')) return;
    const line = {
      method: rpc,
      code: status[code],
      durationMs: seconds * 1e3,
      cacheStatus,
      messages,
    };
    if (code === status.INTERNAL) logger.error(line, 'rpc failed');
    else logger.debug(line, 'rpc');
  };

  /** A stream may end, fail and be cancelled: it is recorded once. */
  const finisher = (rpc: string): Finish => {
    const started = performance.now();
    let done = false;
    return (code, messages) => {
      if (done) return;
      done = true;
      record(rpc, started, code, undefined, messages);
    };
  };

  // A unary handler calls back once: one closure per call, no finisher.
  const observeUnary =
    (rpc: string, handler: Handler): Handler =>
    (call, callback) => {
      const started = performance.now();
      if (isMalformedRequest(call.request)) {
        record(rpc, started, MALFORMED.code);
        return callback!(MALFORMED);
      }
      // grpc-js marks a cancelled call; it is counted once its handler is done (no listener per call).
      handler(call, (error, value, trailer, flags) => {
        if (call.cancelled) record(rpc, started, status.CANCELLED);
        else if (error) record(rpc, started, error.code ?? status.UNKNOWN);
        else record(rpc, started, status.OK, value as Answer | undefined, 1);
        callback!(error, value, trailer, flags);
      });
    };

  const observeStream =
    (rpc: string, handler: Handler): Handler =>
    (call) => {
      const finish = finisher(rpc);
      if (isMalformedRequest(call.request)) {
        finish(MALFORMED.code);
        call.emit('error', MALFORMED);
        return;
      }
      let messages = 0;
      const { write, end, emit } = call;
      if (write) call.write = (...args) => ((messages += 1), write.apply(call, args));
      if (end) call.end = (...args) => (finish(status.OK, messages), end.apply(call, args));
      call.emit = (event, ...args) => {
        if (event === 'error') finish((args[0] as ServiceError)?.code ?? status.UNKNOWN, messages);
        return emit.apply(call, [event, ...args]);
      };
      call.on('cancelled', () => finish(status.CANCELLED, messages));
      handler(call);
    };

  const addService = server.addService.bind(server);
  server.addService = (service, implementation) => {
    const observed: Record<string, unknown> = { ...implementation };
    for (const [name, method] of Object.entries(service)) {
      const key = name in implementation ? name : method.originalName;
      const handler = key === undefined ? undefined : implementation[key];
      if (key === undefined || typeof handler !== 'function') continue;
      const rpc = method.path.slice(method.path.lastIndexOf('/') + 1);
      const bound = (handler as Handler).bind(implementation);
      observed[key] =
        method.requestStream || method.responseStream
          ? observeStream(rpc, bound)
          : observeUnary(rpc, bound);
    }
    addService(service, observed as typeof implementation);
  };
}
