import { loadConfig } from '../../config/app-config';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import type { MovieLookup } from '../movie-lookup';
import { ConsistencyPolicy } from './consistency-policy';
import { ConsistencySampler } from './consistency-sampler';

const lookup: MovieLookup = { kind: 'id', id: 'a'.repeat(24) };
const hit = (cacheStatus = CacheStatus.CACHE_STATUS_HIT): GetMovieResponse & { movie: Movie } => ({
  movie: { id: 'a'.repeat(24), revision: 7 } as Movie,
  cacheStatus,
  cacheTier: CacheTier.CACHE_TIER_LOCAL,
});

const sampler = (env: Record<string, string>) =>
  new ConsistencySampler(new ConsistencyPolicy(loadConfig(env)), new MetricsService());

describe(ConsistencySampler.name, () => {
  it('samples about the configured fraction of answers', () => {
    const sut = sampler({ CONSISTENCY_SAMPLE_RATE: '0.01', CONSISTENCY_MAX_PER_SECOND: '10000' });

    for (let i = 0; i < 200_000; i += 1) sut.sample(lookup, hit());

    expect(sut.recorded).toBeGreaterThan(1_700);
    expect(sut.recorded).toBeLessThan(2_300);
  });

  it('records nothing with a rate of 0', () => {
    const sut = sampler({ CONSISTENCY_SAMPLE_RATE: '0' });

    for (let i = 0; i < 10_000; i += 1) sut.sample(lookup, hit());

    expect(sut.counts()).toEqual({ samples: 0, dropped: 0 });
  });

  it('records hits only: what was asked, the copy, its tier and when the call arrived', () => {
    const sut = sampler({ CONSISTENCY_SAMPLE_RATE: '1' });

    sut.sample(lookup, hit(CacheStatus.CACHE_STATUS_MISS), 5);
    sut.sample(lookup, hit(), 42);

    expect(sut.recorded).toBe(1);
    expect(sut.observation(0)).toMatchObject({
      lookup,
      id: 'a'.repeat(24),
      revision: 7,
      tier: CacheTier.CACHE_TIER_LOCAL,
      at: 42,
    });
  });

  describe('on a clock of its own', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('records at most CONSISTENCY_MAX_PER_SECOND a second, and counts the rest as dropped', () => {
      const sut = sampler({ CONSISTENCY_SAMPLE_RATE: '1', CONSISTENCY_MAX_PER_SECOND: '5' });
      jest.advanceTimersByTime(1_000 - (performance.now() % 1_000));

      for (let i = 0; i < 8; i += 1) sut.sample(lookup, hit());
      jest.advanceTimersByTime(1_000);
      sut.sample(lookup, hit());

      expect(sut.counts()).toEqual({ samples: 6, dropped: 3 });
    });

    it('keeps a bounded ring: the oldest samples are gone once it wrapped', () => {
      const sut = sampler({
        CONSISTENCY_SAMPLE_RATE: '1',
        CONSISTENCY_MAX_PER_SECOND: '1',
        CONSISTENCY_HORIZONS: '1',
      });
      const capacity = 3; // 1 a second, for the last horizon (1 s) and 2 s of slack
      for (let second = 0; second < 5; second += 1) {
        sut.sample(lookup, hit(), second);
        jest.advanceTimersByTime(1_000);
      }

      expect(sut.recorded).toBe(5);
      expect(sut.observation(5 - capacity - 1)).toBeUndefined();
      expect(sut.observation(5 - capacity)?.at).toBe(2);
      expect(sut.observation(4)?.at).toBe(4);
    });
  });
});
