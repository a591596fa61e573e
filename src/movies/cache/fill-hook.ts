import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/**
 * Test seams of the cache, no-ops in the service. `beforeFill` runs between the MongoDB read of a
 * miss and its fill; `beforeDelivery` runs before this instance handles a message of the
 * near-cache channel (invalidation, ack or ping), and returns false to lose it. Tests use them to force the interleavings the
 * write fence and the near-cache lease must make harmless.
 */
export interface FillHook {
  beforeFill(movie: Movie): Promise<void>;
  beforeDelivery?(message: string): Promise<boolean>;
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
