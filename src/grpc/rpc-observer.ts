import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CacheStatus } from '../generated/nest/movies/v1/movie_service';
import type { MetricsService } from '../metrics/metrics.service';
import { isMalformedRequest } from './malformed-request';

const CACHE_LABEL: Partial<Record<number, string>> = {
  [CacheStatus.CACHE_STATUS_HIT]: 'hit',
  [CacheStatus.CACHE_STATUS_MISS]: 'miss',
  [CacheStatus.CACHE_STATUS_BYPASS]: 'bypass',
  [CacheStatus.CACHE_STATUS_STALE]: 'stale',
};

const SUMMARY_EVERY_MS = 10_000;

const MALFORMED_STATUS = {
  code: status.INVALID_ARGUMENT,
  details: 'request is not a valid protobuf message',
  metadata: new Metadata(),
};

/**
 * Rejects undecodable requests with INVALID_ARGUMENT before the application sees them, and
 * records the RPC metrics per call (method, status, duration, cache status) and its log line at debug,
 * as a grpc-js server interceptor: it sees the final status of every call, guards and malformed
 * requests included, and costs less than another NestJS interceptor layer. At info, one summary
 * line every 10 s of the calls by method and status, so a loaded server does not log per call.
 */
export function rpcObserver(metrics: MetricsService, logger: Logger): ServerInterceptor {
  let summary: Record<string, Record<string, number>> = {};
  setInterval(() => {
    if (Object.keys(summary).length === 0) return;
    logger.info({ calls: summary, seconds: SUMMARY_EVERY_MS / 1000 }, 'rpc summary');
    summary = {};
  }, SUMMARY_EVERY_MS).unref();
  return (method, call) => {
    const rpc = method.path.slice(method.path.lastIndexOf('/') + 1);
    const started = performance.now();
    let cacheStatus: string | undefined;
    let messages = 0;
    let done = false;
    const finish = (code: status) => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - started) / 1000;
      metrics.rpcs.labels(rpc, status[code]).inc();
      if (cacheStatus) {
        metrics.cacheLookups.labels(cacheStatus).inc();
        metrics.getMovieDuration.labels(cacheStatus).observe(seconds);
      }
      const line = {
        method: rpc,
        code: status[code],
        durationMs: Math.round(seconds * 1e6) / 1e3,
        cacheStatus,
        messages,
      };
      const byCode = (summary[rpc] ??= {});
      byCode[line.code] = (byCode[line.code] ?? 0) + 1;
      if (code === status.INTERNAL) logger.error(line, 'rpc failed');
      else if (logger.isLevelEnabled('debug')) logger.debug(line, 'rpc');
    };
    const intercepted: ServerInterceptingCall = new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) =>
          next(
            new ServerListenerBuilder()
              .withOnReceiveMessage((message, next) => {
                // Bytes that were not a message never reach the application (see malformed-request).
                if (isMalformedRequest(message)) intercepted.sendStatus(MALFORMED_STATUS);
                else next(message);
              })
              .withOnCancel(() => finish(status.CANCELLED))
              .build(),
          ),
        )
        .withSendMessage((message, next) => {
          messages += 1;
          const cache = (message as { cacheStatus?: number } | undefined)?.cacheStatus;
          if (cache !== undefined) cacheStatus = CACHE_LABEL[cache];
          next(message);
        })
        .withSendStatus((sent, next) => {
          finish(sent.code);
          next(sent);
        })
        .build(),
    );
    return intercepted;
  };
}
