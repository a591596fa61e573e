import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Observable, defer } from 'rxjs';
import {
  MOVIE_SERVICE_NAME,
  type MovieServiceController,
  type StreamTrendingRequest,
  type StreamTrendingResponse,
} from '../generated/nest/movies/v1/movie_service';
import { TrendingFeed } from './trending-feed.service';
import { parseTrendingRequest } from './trending-request';

@Controller()
export class TrendingController implements Pick<MovieServiceController, 'streamTrending'> {
  constructor(private readonly feed: TrendingFeed) {}

  @GrpcMethod(MOVIE_SERVICE_NAME)
  streamTrending(request: StreamTrendingRequest): Observable<StreamTrendingResponse> {
    return defer(() => this.feed.snapshots(parseTrendingRequest(request)));
  }
}
