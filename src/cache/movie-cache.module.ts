import { Global, Module } from '@nestjs/common';
import { MovieCache } from './movie-cache.service';

/** One MovieCache per app: its scripts and locally counted bypasses are shared by every feature. */
@Global()
@Module({ providers: [MovieCache], exports: [MovieCache] })
export class MovieCacheModule {}
