import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Movie } from '../../generated/nest/movies/v1/movie_service';

/**
 * Test seams of the cache, no-ops in the service: they let tests force the interleavings the
 * write fence and the near-cache lease must make harmless.
 */
export interface CacheHooks {
  /** Runs between the MongoDB read of a miss and its fill. */
  beforeFill(movie: Movie): Promise<void>;
  /** Runs before a near-cache channel message is handled; false loses it. */
  beforeDelivery?(message: string): Promise<boolean>;
}

export const CACHE_HOOKS = Symbol('CACHE_HOOKS');

export const noCacheHooks: CacheHooks = { beforeFill: () => Promise.resolve() };

/** Provides CACHE_HOOKS app-wide (the no-ops unless a test passes its own). */
@Global()
@Module({})
export class CacheHooksModule {
  static register(hooks: CacheHooks = noCacheHooks): DynamicModule {
    return {
      module: CacheHooksModule,
      providers: [{ provide: CACHE_HOOKS, useValue: hooks }],
      exports: [CACHE_HOOKS],
    };
  }
}
