import type { PeekedCopy } from '../cache/movie-cache';
import type { Observation } from './consistency-sampler';
import type { MongoVersion } from './seen-versions';

/**
 * A check's outcome. Consistent: the cache would no longer answer with the sampled copy, or that
 * copy is MongoDB's. Inconsistent: it still would, and MongoDB holds another version this process
 * had already read before the sampled call arrived. Undecided: MongoDB differs, but its version
 * may have been written after the call arrived (a concurrent write), so it is not counted.
 * Skipped: not checked (Redis or MongoDB away, or the checker too far behind).
 */
export type Outcome = 'consistent' | 'inconsistent' | 'undecided' | 'skipped';

/** The cache would still answer the sample's lookup with the sampled copy. */
export const servedAgain = (observation: Observation, peeked: PeekedCopy | null): boolean =>
  peeked !== null && peeked.id === observation.id && peeked.revision === observation.revision;

/**
 * The rule (docs/guarantees.md, "The consistency checker"), at one horizon: `peeked` is what the
 * cache would answer now, `mongo` what MongoDB holds now (undefined: not read), `firstSeenAt`
 * when this process first read that version (performance.now(), like `observation.at`).
 * Revisions are compared for equality: an import may lower them.
 */
export function judge(
  observation: Observation,
  peeked: PeekedCopy | null,
  mongo: MongoVersion | undefined,
  firstSeenAt: number,
): Outcome {
  if (!servedAgain(observation, peeked)) return 'consistent';
  if (mongo === undefined) return 'skipped';
  if (mongo && mongo.id === observation.id && mongo.revision === observation.revision)
    return 'consistent';
  return firstSeenAt < observation.at ? 'inconsistent' : 'undecided';
}
