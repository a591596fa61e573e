import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { loadConfig } from '../../config/app-config';
import { DependencyUnavailableError } from '../../common/errors';
import {
  CacheStatus,
  CacheTier,
  type GetMovieResponse,
  type Movie,
} from '../../generated/nest/movies/v1/movie_service';
import { MetricsService } from '../../metrics/metrics.service';
import type { MovieCache, PeekedCopy } from '../cache/movie-cache';
import type { MovieLookup } from '../movie-lookup';
import type { MoviesRepository } from '../movies.repository';
import { ConsistencyChecker } from './consistency-checker';
import { ConsistencyPolicy } from './consistency-policy';
import { ConsistencySampler } from './consistency-sampler';

const ID = 'a'.repeat(24);
const lookup: MovieLookup = { kind: 'id', id: ID };
const answer = (revision: number): GetMovieResponse & { movie: Movie } => ({
  movie: { id: ID, revision } as Movie,
  cacheStatus: CacheStatus.CACHE_STATUS_HIT,
  cacheTier: CacheTier.CACHE_TIER_LOCAL,
});

/** The checker on fakes: `cached` is what the cache would answer, `stored` what MongoDB holds. */
function checker(env: Record<string, string> = {}) {
  const world = {
    cached: { id: ID, revision: 1, tier: CacheTier.CACHE_TIER_LOCAL } as PeekedCopy | null,
    stored: { id: ID, revision: 1 } as { id: string; revision: number } | null,
    redisDown: false,
    reads: 0,
    healed: [] as string[],
  };
  const cache = {
    peek: () =>
      world.redisDown
        ? Promise.reject(new DependencyUnavailableError('Redis'))
        : Promise.resolve(world.cached),
    heal: (id: string) => {
      world.healed.push(id);
      world.cached = world.stored && { ...world.stored, tier: CacheTier.CACHE_TIER_REDIS };
      return Promise.resolve();
    },
  } as unknown as MovieCache;
  const repository = {
    unavailable: false,
    checkById: () => {
      world.reads += 1;
      return Promise.resolve(world.stored as Movie | null);
    },
  } as unknown as MoviesRepository;
  const policy = new ConsistencyPolicy(
    loadConfig({ CONSISTENCY_SAMPLE_RATE: '1', CONSISTENCY_HORIZONS: '1,10', ...env }),
  );
  const metrics = new MetricsService();
  const sampler = new ConsistencySampler(policy, metrics);
  const sut = new ConsistencyChecker(policy, sampler, cache, repository, metrics);
  /** GetMovie served `revision` (sampled), arriving now. */
  const served = (revision: number) => {
    const at = performance.now();
    sampler.sample(lookup, answer(revision), at);
    return at;
  };
  const horizon = (seconds: number) => sut.stats().horizons.find((h) => h.seconds === seconds)!;
  return { sut, world, served, horizon };
}

describe(ConsistencyChecker.name, () => {
  it('a copy MongoDB still holds is consistent at every horizon', async () => {
    const { sut, served, horizon } = checker();
    const at = served(1);

    await sut.checkDue(at + 1_000);
    await sut.checkDue(at + 10_000);

    expect(horizon(1)).toMatchObject({ checks: 1, inconsistent: 0 });
    expect(horizon(10)).toMatchObject({ checks: 1, inconsistent: 0 });
  });

  it('checks nothing before its horizon', async () => {
    const { sut, world, served, horizon } = checker();
    const at = served(1);

    await sut.checkDue(at + 999);

    expect(horizon(1).checks).toBe(0);
    expect(world.reads).toBe(0);
  });

  it('a copy the cache no longer answers with is consistent, without reading MongoDB', async () => {
    const { sut, world, served, horizon } = checker();
    const at = served(1);
    world.cached = null;
    world.stored = { id: ID, revision: 2 };

    await sut.checkDue(at + 1_000);

    expect(horizon(1)).toMatchObject({ checks: 1, inconsistent: 0 });
    expect(world.reads).toBe(0);
  });

  it('a write MongoDB was first seen holding after the call arrived is undecided: not counted, not healed', async () => {
    const { sut, world, served, horizon } = checker();
    const at = served(1);
    world.stored = { id: ID, revision: 2 }; // written after the answer, the cache not yet told

    await sut.checkDue(at + 1_000);

    expect(horizon(1)).toMatchObject({ checks: 0, inconsistent: 0, undecided: 1 });
    expect(world.healed).toEqual([]);
  });

  it('once MongoDB was seen holding a newer version, a later answer with the old copy is inconsistent, and healed once', async () => {
    const { sut, world, served, horizon } = checker();
    world.stored = { id: ID, revision: 2 };
    const first = served(1);
    await sut.checkDue(first + 1_000); // undecided: reads MongoDB's revision 2

    const later = [served(1), served(1)];
    await sut.checkDue(later[1] + 1_000);

    expect(horizon(1)).toMatchObject({ checks: 2, inconsistent: 2, undecided: 1 });
    expect(world.healed).toEqual([ID]);
    expect(sut.stats().heals).toBe(1);
    // Healed: at 10 s the cache answers MongoDB's copy.
    await sut.checkDue(later[1] + 10_000);
    expect(horizon(10)).toMatchObject({ checks: 3, inconsistent: 0 });
  });

  it('logs each inconsistency at warn, naming the movie, both revisions, the tier and the instance', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { sut, world, served } = checker();
    world.stored = { id: ID, revision: 2 };
    await sut.checkDue(served(1) + 1_000);

    await sut.checkDue(served(1) + 1_000);

    expect(warn).toHaveBeenCalledTimes(1);
    const [line] = warn.mock.calls[0] as [string];
    expect(line).toContain(`movie ${ID}`);
    expect(line).toContain('served at revision 1 from local');
    expect(line).toContain(`on ${hostname()}:${process.pid}`);
    expect(line).toContain('at revision 2');
    warn.mockRestore();
  });

  it('a lowered revision (an import) is as inconsistent as a newer one', async () => {
    const { sut, world, served, horizon } = checker();
    world.cached = { id: ID, revision: 5, tier: CacheTier.CACHE_TIER_REDIS };
    world.stored = { id: ID, revision: 0 };
    await sut.checkDue(served(5) + 1_000);

    await sut.checkDue(served(5) + 1_000);

    expect(horizon(1)).toMatchObject({ inconsistent: 1, undecided: 1 });
    expect(world.healed).toEqual([ID]);
  });

  it('with CONSISTENCY_HEAL=off, counts but leaves the copy', async () => {
    const { sut, world, served, horizon } = checker({ CONSISTENCY_HEAL: 'off' });
    world.stored = { id: ID, revision: 2 };
    await sut.checkDue(served(1) + 1_000);

    await sut.checkDue(served(1) + 1_000);

    expect(horizon(1).inconsistent).toBe(1);
    expect(world.healed).toEqual([]);
  });

  it('skips while Redis is away (its breaker open) or MongoDB is, and heals nothing', async () => {
    const { sut, world, served, horizon } = checker();
    world.stored = { id: ID, revision: 2 };
    world.redisDown = true;

    await sut.checkDue(served(1) + 1_000);

    expect(horizon(1)).toMatchObject({ checks: 0, skipped: 1 });
    expect(world.reads).toBe(0);
    expect(world.healed).toEqual([]);
  });

  it('reads MongoDB once for samples of one lookup due together', async () => {
    const { sut, world, served } = checker();
    for (let i = 0; i < 5; i += 1) served(1);

    await sut.checkDue(performance.now() + 1_000);

    expect(world.reads).toBe(1);
  });

  it('reports nines: -log10 of the inconsistent fraction, log10(checks) with none', () => {
    expect(ConsistencyPolicy.nines(1_000, 1)).toBeCloseTo(3);
    expect(ConsistencyPolicy.nines(10_000, 0)).toBeCloseTo(4);
    expect(ConsistencyPolicy.nines(0, 0)).toBe(0);
  });
});
