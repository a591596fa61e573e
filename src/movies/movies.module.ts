import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CacheAsideInterceptor } from './cache/cache-aside.interceptor';
import { CacheAsideReader } from './cache/cache-aside.reader';
import { CacheCounters } from './cache/cache-counters';
import { CacheMisses } from './cache/cache-misses';
import { CachedCopies } from './cache/cached-copies';
import { CacheTtl } from './cache/cache-ttl';
import { FillLeases } from './cache/fill-leases';
import { InvalidationBus } from './cache/invalidation-bus';
import { MovieCacheStore } from './cache/movie-cache.store';
import { NearCache } from './cache/near-cache';
import { NegativeCache } from './cache/negative-cache';
import { OutageLedger } from './cache/outage-ledger';
import { RefreshAhead } from './cache/refresh-ahead';
import { LogicalClock } from './cache/read-outcome';
import { TitleMap } from './cache/title-map';
import { WriteThroughHandler } from './cache/write-through.handler';
import { MovieReadEvents } from './movie-read-events';
import { MovieEntity, MovieSchema } from './movie.schema';
import { MoviesController } from './movies.controller';
import { MoviesRepository } from './movies.repository';
import { MoviesService } from './movies.service';

/** GetMovie and UpdateRating: MongoDB through the repository, Redis through the movie cache. */
@Module({
  imports: [MongooseModule.forFeature([{ name: MovieEntity.name, schema: MovieSchema }])],
  controllers: [MoviesController],
  providers: [
    MoviesRepository,
    MoviesService,
    MovieReadEvents,
    CacheTtl,
    MovieCacheStore,
    NegativeCache,
    TitleMap,
    FillLeases,
    OutageLedger,
    CacheCounters,
    LogicalClock,
    NearCache,
    InvalidationBus,
    RefreshAhead,
    CacheMisses,
    CachedCopies,
    CacheAsideReader,
    CacheAsideInterceptor,
    WriteThroughHandler,
  ],
  exports: [
    MoviesRepository,
    MovieReadEvents,
    MovieCacheStore,
    OutageLedger,
    CacheCounters,
    NearCache,
  ],
})
export class MoviesModule {}
