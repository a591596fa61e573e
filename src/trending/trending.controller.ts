import { Controller, Inject } from '@nestjs/common';
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { GrpcMethod } from '@nestjs/microservices';
import { Observable, defer } from 'rxjs';
import {
  MOVIE_SERVICE_NAME,
  type MovieServiceController,
  type StreamTrendingRequest,
  type StreamTrendingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CallOrigins } from '../grpc/call-origin';
import { MetricsService } from '../metrics/metrics.service';
import { writeLatest } from './latest-snapshot-writer';
import { TrendingFeed } from './trending-feed.service';
import { parseTrendingRequest } from './trending-request';

type TrendingCall = ServerWritableStream<StreamTrendingRequest, StreamTrendingResponse>;

@Controller()
export class TrendingController implements Pick<MovieServiceController, 'streamTrending'> {
  private readonly origins: CallOrigins;

  constructor(
    private readonly feed: TrendingFeed,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.origins = new CallOrigins(config.trustedProxies);
  }

  /**
   * Snapshots go to the call through writeLatest (latest-snapshot-writer.ts says why); Nest gets
   * an Observable that emits nothing and only ends the call. Nest passes grpc-js's call third
   * (optional here only because the generated interface stops at metadata). Streams are counted
   * by client address: the peer's, or behind a trusted proxy the client it forwards for.
   */
  @GrpcMethod(MOVIE_SERVICE_NAME)
  streamTrending(
    request: StreamTrendingRequest,
    metadata?: Metadata,
    call?: TrendingCall,
  ): Observable<never> {
    const { client } = this.origins.of(call, metadata);
    return defer(() => this.feed.snapshots(parseTrendingRequest(request), client)).pipe(
      writeLatest(call!, this.metrics.trendingSnapshotsReplaced),
    );
  }
}
