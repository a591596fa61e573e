import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/**
 * Runs between the MongoDB read of a miss and the cache fill. A no-op in the service; tests
 * use it to force the read/write interleaving that the revision check must make harmless.
 */
export interface FillHook {
  beforeFill(movie: Movie): Promise<void>;
}

export const FILL_HOOK = Symbol('FILL_HOOK');

export const noFillHook: FillHook = { beforeFill: () => Promise.resolve() };

/** Provides FILL_HOOK app-wide (the no-op unless a test passes one). */
@Global()
@Module({})
export class FillHookModule {
  static register(hook: FillHook = noFillHook): DynamicModule {
    return {
      module: FillHookModule,
      providers: [{ provide: FILL_HOOK, useValue: hook }],
      exports: [FILL_HOOK],
    };
  }
}
