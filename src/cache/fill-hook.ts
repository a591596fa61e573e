import type { Movie } from '../generated/nest/movies/v1/movie_service';

/**
 * Runs between the MongoDB read of a miss and the cache fill. A no-op in the service; tests
 * use it to force the read/write interleaving that the revision check must make harmless.
 */
export interface FillHook {
  beforeFill(movie: Movie): Promise<void>;
}

export const FILL_HOOK = Symbol('FILL_HOOK');

export const noFillHook: FillHook = { beforeFill: () => Promise.resolve() };
