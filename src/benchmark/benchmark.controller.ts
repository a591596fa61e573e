import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { AdminOnly } from '../grpc/admin-token.guard';
import {
  MOVIE_SERVICE_NAME,
  type MovieServiceController,
  type RunBenchmarkRequest,
  type RunBenchmarkResponse,
} from '../generated/nest/movies/v1/movie_service';
import { BenchmarkService } from './benchmark.service';

@Controller()
export class BenchmarkController implements Pick<MovieServiceController, 'runBenchmark'> {
  constructor(private readonly benchmark: BenchmarkService) {}

  @GrpcMethod(MOVIE_SERVICE_NAME)
  @AdminOnly()
  runBenchmark(
    request: RunBenchmarkRequest,
    _metadata?: unknown,
    call?: ServerUnaryCall<RunBenchmarkRequest, RunBenchmarkResponse>,
  ): Promise<RunBenchmarkResponse> {
    return this.benchmark.runBenchmark(request, call);
  }
}
