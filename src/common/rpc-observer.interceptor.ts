import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { PinoLogger } from 'nestjs-pino';
import { Observable, tap } from 'rxjs';
import { CacheStatus } from '../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../metrics/metrics.service';
import { grpcStatusOf } from './grpc-exception.filter';

const CACHE_LABEL: Partial<Record<CacheStatus, string>> = {
  [CacheStatus.CACHE_STATUS_HIT]: 'hit',
  [CacheStatus.CACHE_STATUS_MISS]: 'miss',
  [CacheStatus.CACHE_STATUS_BYPASS]: 'bypass',
};

/** One structured log line and the RPC metrics per call: method, status, duration, cache status. */
@Injectable()
export class RpcObserverInterceptor implements NestInterceptor {
  constructor(
    private readonly logger: PinoLogger,
    private readonly metrics: MetricsService,
  ) {
    logger.setContext('rpc');
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler().name;
    const method = handler.charAt(0).toUpperCase() + handler.slice(1);
    const started = performance.now();
    let cacheStatus: string | undefined;
    let messages = 0;
    let done = false;
    const finish = (code: status) => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - started) / 1000;
      this.metrics.rpcs.inc({ method, code: status[code] });
      if (cacheStatus) {
        this.metrics.cacheLookups.inc({ status: cacheStatus });
        this.metrics.getMovieDuration.observe({ cache_status: cacheStatus }, seconds);
      }
      const line = {
        method,
        code: status[code],
        durationMs: Math.round(seconds * 1e6) / 1e3,
        cacheStatus,
        messages,
      };
      if (code === status.INTERNAL) this.logger.error(line, 'rpc failed');
      else this.logger.info(line, 'rpc');
    };
    return next.handle().pipe(
      tap({
        next: (value: { cacheStatus?: CacheStatus } | undefined) => {
          messages += 1;
          if (value?.cacheStatus !== undefined) cacheStatus = CACHE_LABEL[value.cacheStatus];
        },
        complete: () => finish(status.OK),
        error: (error: unknown) => finish(grpcStatusOf(error)),
        unsubscribe: () => finish(status.CANCELLED),
      }),
    );
  }
}
