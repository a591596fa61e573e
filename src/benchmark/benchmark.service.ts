import { Injectable } from '@nestjs/common';
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import { CancelledError } from '../common/errors';
import { deadlineOf } from '../grpc/call-deadline';
import type {
  RunBenchmarkRequest,
  RunBenchmarkResponse,
} from '../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../metrics/metrics.service';
import { BenchmarkRunner } from './benchmark.runner';
import { parseWorkload } from './workload';

@Injectable()
export class BenchmarkService {
  constructor(
    private readonly runner: BenchmarkRunner,
    private readonly metrics: MetricsService,
  ) {}

  /** Validates, then runs; stops early when the client cancels or its deadline passes. */
  async runBenchmark(
    request: RunBenchmarkRequest,
    call?: ServerUnaryCall<RunBenchmarkRequest, RunBenchmarkResponse>,
  ): Promise<RunBenchmarkResponse> {
    const workload = parseWorkload(request);
    const abort = new AbortController();
    const onCancel = () => abort.abort(new CancelledError(status.CANCELLED));
    call?.on('cancelled', onCancel);
    const deadlineMs = deadlineOf(call);
    const timer = Number.isFinite(deadlineMs)
      ? setTimeout(
          () => abort.abort(new CancelledError(status.DEADLINE_EXCEEDED)),
          Math.max(0, deadlineMs - Date.now()),
        )
      : undefined;
    try {
      const report = await this.runner.run(workload, abort.signal);
      this.metrics.benchmarkRuns.inc({ outcome: 'completed' });
      return report;
    } catch (error) {
      this.metrics.benchmarkRuns.inc({
        outcome: error instanceof CancelledError ? 'cancelled' : 'failed',
      });
      throw error;
    } finally {
      clearTimeout(timer);
      call?.off('cancelled', onCancel);
    }
  }
}
