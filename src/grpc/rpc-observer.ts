import { status, type Metadata, type Server, type ServiceError } from '@grpc/grpc-js';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { HotCount } from '../metrics/hot-counts';
import type { MetricsService } from '../metrics/metrics.service';
import { telemetry } from '../telemetry/tracer';
import { isMalformedRequest } from './malformed-request';
import { CACHE_LABEL, TIER_LABEL, type Answer } from '../telemetry/cache-attributes';
import { startServerSpan, type ServerSpan } from './server-spans';

const SUMMARY_EVERY_MS = 10_000;

const MALFORMED = {
  code: status.INVALID_ARGUMENT,
  details: 'request is not a valid protobuf message',
};

/** What a grpc-js handler is handed: a call, and for unary calls the callback. */
type Call = {
  request?: unknown;
  metadata?: Metadata;
  cancelled?: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
  write?: (...args: unknown[]) => boolean;
  end?: (...args: unknown[]) => void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
};
type Callback = (error: Partial<ServiceError> | null, value?: unknown, ...rest: unknown[]) => void;
type Handler = (call: Call, callback?: Callback) => void;

/** Records one finished call: its status, duration and messages sent. */
type Finish = (code: status, messages?: number, details?: string) => void;

/**
 * Wraps every handler the server registers: RPC metrics, a server span per call while tracing is
 * on, a debug line per call and a summary every 10 s, and INVALID_ARGUMENT for a request that is
 * not a valid message (cheaper than a grpc-js server interceptor: docs/benchmarks.md).
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
        duration: metrics.getMovieDuration.labels({ cache_status: label! }),
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
  const finisher = (rpc: string, span: ServerSpan | undefined): Finish => {
    const started = performance.now();
    let done = false;
    return (code, messages, details) => {
      if (done) return;
      done = true;
      record(rpc, started, code, undefined, messages);
      span?.end(code, details);
    };
  };

  // A unary handler calls back once: one closure per call, no finisher.
  const observeUnary =
    (rpc: string, path: string, handler: Handler): Handler =>
    (call, callback) => {
      const started = performance.now();
      const span = telemetry.enabled ? startServerSpan(path, call.metadata) : undefined;
      if (isMalformedRequest(call.request)) {
        record(rpc, started, MALFORMED.code);
        span?.end(MALFORMED.code, MALFORMED.details);
        return callback!(MALFORMED);
      }
      // grpc-js marks a cancelled call; it is counted once its handler is done (no listener per call).
      const done: Callback = (error, value, trailer, flags) => {
        const code = call.cancelled
          ? status.CANCELLED
          : error
            ? (error.code ?? status.UNKNOWN)
            : status.OK;
        const answer = code === status.OK ? (value as Answer | undefined) : undefined;
        record(rpc, started, code, answer, code === status.OK ? 1 : 0);
        span?.end(code, error?.details, answer);
        callback!(error, value, trailer, flags);
      };
      if (span) context.with(span.context, handler, undefined, call, done);
      else handler(call, done);
    };

  const observeStream =
    (rpc: string, path: string, handler: Handler): Handler =>
    (call) => {
      const span = telemetry.enabled ? startServerSpan(path, call.metadata) : undefined;
      const finish = finisher(rpc, span);
      if (isMalformedRequest(call.request)) {
        finish(MALFORMED.code, 0, MALFORMED.details);
        call.emit('error', MALFORMED);
        return;
      }
      let messages = 0;
      const { write, end, emit } = call;
      if (write) call.write = (...args) => ((messages += 1), write.apply(call, args));
      if (end) call.end = (...args) => (finish(status.OK, messages), end.apply(call, args));
      let refused = false;
      call.emit = (event, ...args) => {
        // A client stream's message that could not be decoded ends the call; nothing after it is read.
        if (event === 'data' && (refused || isMalformedRequest(args[0]))) {
          if (!refused) {
            refused = true;
            call.emit('error', MALFORMED);
          }
          return true;
        }
        if (event === 'error') {
          const error = args[0] as ServiceError | undefined;
          finish(error?.code ?? status.UNKNOWN, messages, error?.details);
        }
        return emit.apply(call, [event, ...args]);
      };
      call.on('cancelled', () => finish(status.CANCELLED, messages));
      if (span) context.with(span.context, handler, undefined, call);
      else handler(call);
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
          ? observeStream(rpc, method.path, bound)
          : observeUnary(rpc, method.path, bound);
    }
    addService(service, observed as typeof implementation);
  };
}
