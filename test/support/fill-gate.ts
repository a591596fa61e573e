import type { CacheHooks } from '../../src/movies/cache/cache-hooks';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';

/**
 * A fill hook that holds fills of one movie between their MongoDB read and their fill, one at a
 * time: `reached()` resolves with the revision read once a fill is held, `release()` lets it go.
 */
export function fillGate(id: string) {
  const held: Array<{ revision: number; go: () => void }> = [];
  const waiting: Array<(revision: number) => void> = [];
  const hook: CacheHooks = {
    beforeFill: (movie: Movie) => {
      if (movie.id !== id) return Promise.resolve();
      return new Promise<void>((go) => {
        const wake = waiting.shift();
        if (wake) wake(movie.revision);
        held.push({ revision: movie.revision, go });
      });
    },
  };
  return {
    hook,
    /** The revision the next held fill read (waits for one if none is held). */
    reached: (): Promise<number> =>
      held.length > 0
        ? Promise.resolve(held[0].revision)
        : new Promise<number>((resolve) => waiting.push(resolve)),
    release: () => held.shift()?.go(),
  };
}
