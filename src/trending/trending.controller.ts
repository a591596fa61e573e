import { Controller } from '@nestjs/common';
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { GrpcMethod } from '@nestjs/microservices';
import { Observable, defer } from 'rxjs';
import {
  MOVIE_SERVICE_NAME,
  type MovieServiceController,
  type StreamTrendingRequest,
  type StreamTrendingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { peerAddress } from '../grpc/peer';
import { MetricsService } from '../metrics/metrics.service';
import { writeLatest } from './latest-snapshot-writer';
import { TrendingFeed } from './trending-feed.service';
import { parseTrendingRequest } from './trending-request';

type TrendingCall = ServerWritableStream<StreamTrendingRequest, StreamTrendingResponse>;

@Controller()
export class TrendingController implements Pick<MovieServiceController, 'streamTrending'> {
  constructor(
    private readonly feed: TrendingFeed,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Snapshots go to the call through writeLatest (latest-snapshot-writer.ts says why); Nest gets
   * an Observable that emits nothing and only ends the call. Nest passes grpc-js's call third
   * (optional here only because the generated interface stops at metadata).
   */
  @GrpcMethod(MOVIE_SERVICE_NAME)
  streamTrending(
    request: StreamTrendingRequest,
    _metadata?: Metadata,
    call?: TrendingCall,
  ): Observable<never> {
    return defer(() => this.feed.snapshots(parseTrendingRequest(request), peerAddress(call))).pipe(
      writeLatest(call!, this.metrics.trendingSnapshotsReplaced),
    );
  }
}
