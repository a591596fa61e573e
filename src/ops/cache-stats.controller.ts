import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import {
  MOVIE_SERVICE_NAME,
  type GetCacheStatsResponse,
  type MovieServiceController,
} from '../generated/nest/movies/v1/movie_service';
import { CacheStatsService } from './cache-stats.service';

@Controller()
export class CacheStatsController implements Pick<MovieServiceController, 'getCacheStats'> {
  constructor(private readonly stats: CacheStatsService) {}

  @GrpcMethod(MOVIE_SERVICE_NAME)
  getCacheStats(): Promise<GetCacheStatsResponse> {
    return this.stats.getCacheStats();
  }
}
