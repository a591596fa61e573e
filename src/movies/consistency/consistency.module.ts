import { Module } from '@nestjs/common';
import { MovieCacheModule } from '../cache/movie-cache.module';
import { MoviesRepositoryModule } from '../movies-repository.module';
import { ConsistencyChecker } from './consistency-checker';
import { ConsistencyPolicy } from './consistency-policy';
import { ConsistencySampler } from './consistency-sampler';

/**
 * The live consistency checker: the sampler GetMovie's interceptor feeds, and the checker whose
 * counts GetCacheStats reports. It reads the cache through its facade and MongoDB through the
 * repository.
 */
@Module({
  imports: [MovieCacheModule, MoviesRepositoryModule],
  providers: [ConsistencyPolicy, ConsistencySampler, ConsistencyChecker],
  exports: [ConsistencySampler, ConsistencyChecker],
})
export class ConsistencyModule {}
