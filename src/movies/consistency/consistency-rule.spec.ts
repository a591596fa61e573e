import { CacheTier } from '../../generated/nest/movies/v1/movie_service';
import type { Observation } from './consistency-sampler';
import { judge } from './consistency-rule';

const observation = (at = 1_000): Observation => ({
  lookup: { kind: 'id', id: 'a'.repeat(24) },
  id: 'a'.repeat(24),
  revision: 3,
  tier: CacheTier.CACHE_TIER_LOCAL,
  at,
});
const still = { id: 'a'.repeat(24), revision: 3, tier: CacheTier.CACHE_TIER_REDIS };

describe(judge.name, () => {
  it('consistent once the cache would no longer answer with the copy (moved on, or gone)', () => {
    expect(judge(observation(), { ...still, revision: 4 }, { id: still.id, revision: 5 }, 0)).toBe(
      'consistent',
    );
    expect(judge(observation(), null, { id: still.id, revision: 5 }, 0)).toBe('consistent');
  });

  it('consistent when MongoDB holds the copy served', () => {
    expect(judge(observation(), still, { id: still.id, revision: 3 }, 0)).toBe('consistent');
  });

  it('inconsistent when still served and MongoDB’s version was read before the call arrived', () => {
    expect(judge(observation(1_000), still, { id: still.id, revision: 4 }, 999)).toBe(
      'inconsistent',
    );
  });

  it('a lowered revision (an import) and a deleted movie differ as much as a newer one', () => {
    expect(judge(observation(), still, { id: still.id, revision: 0 }, 10)).toBe('inconsistent');
    expect(judge(observation(), still, null, 10)).toBe('inconsistent');
  });

  it('a title now owned by another movie differs', () => {
    expect(judge(observation(), still, { id: 'b'.repeat(24), revision: 3 }, 10)).toBe(
      'inconsistent',
    );
  });

  it('undecided, not counted, when the version may have been written after the call arrived', () => {
    expect(judge(observation(1_000), still, { id: still.id, revision: 4 }, 1_000)).toBe(
      'undecided',
    );
    expect(judge(observation(1_000), still, { id: still.id, revision: 4 }, 2_000)).toBe(
      'undecided',
    );
  });

  it('skipped when MongoDB was not read', () => {
    expect(judge(observation(), still, undefined, Infinity)).toBe('skipped');
  });
});
