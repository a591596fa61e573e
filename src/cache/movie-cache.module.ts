import { DynamicModule, Global, Module } from '@nestjs/common';
import { FILL_HOOK, noFillHook, type FillHook } from './fill-hook';
import { MovieCache } from './movie-cache.service';

/** One MovieCache per app: its scripts, breaker and local state are shared by every feature. */
@Global()
@Module({})
export class MovieCacheModule {
  static register(fillHook: FillHook = noFillHook): DynamicModule {
    return {
      module: MovieCacheModule,
      providers: [MovieCache, { provide: FILL_HOOK, useValue: fillHook }],
      exports: [MovieCache, FILL_HOOK],
    };
  }
}
