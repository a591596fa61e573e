import { InvalidArgumentError } from '../common/errors';
import { Distribution } from '../generated/nest/movies/v1/movie_service';
import { parseWorkload, requestSequence, zipfCumulative } from './workload';

const share = (sequence: Uint32Array, predicate: (key: number) => boolean) =>
  sequence.filter(predicate).length / sequence.length;

describe(parseWorkload.name, () => {
  it('applies the defaults the proto documents', () => {
    expect(parseWorkload({ seed: 1 })).toEqual({
      requests: 500,
      concurrency: 1,
      keySpace: 100,
      distribution: Distribution.DISTRIBUTION_PARETO_80_20,
      zipfExponent: 1,
      seed: 1,
      warmStart: false,
      compareUncached: false,
    });
  });

  it('picks a seed when given 0', () => {
    expect(parseWorkload({}).seed).toBeGreaterThan(0);
  });

  it.each([{ requests: 1.5 }, { concurrency: -1 }, { seed: -3 }, { zipfExponent: Infinity }])(
    'rejects %j',
    (request) => {
      expect(() => parseWorkload(request)).toThrow(InvalidArgumentError);
    },
  );
});

describe(requestSequence.name, () => {
  const workload = (distribution: Distribution, seed = 99) => ({
    ...parseWorkload({ requests: 100_000, keySpace: 100, seed }),
    distribution: distribution as never,
  });

  it('is the same for the same seed and differs for another', () => {
    const a = requestSequence(workload(Distribution.DISTRIBUTION_UNIFORM), 100);
    const b = requestSequence(workload(Distribution.DISTRIBUTION_UNIFORM), 100);
    const c = requestSequence(workload(Distribution.DISTRIBUTION_UNIFORM, 100), 100);

    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('sends 80% of Pareto requests to the first 20% of keys', () => {
    const sequence = requestSequence(workload(Distribution.DISTRIBUTION_PARETO_80_20), 100);
    expect(share(sequence, (key) => key < 20)).toBeCloseTo(0.8, 1);
    expect(Math.max(...sequence)).toBe(99);
  });

  it('spreads uniform requests evenly', () => {
    const sequence = requestSequence(workload(Distribution.DISTRIBUTION_UNIFORM), 100);
    expect(share(sequence, (key) => key < 50)).toBeCloseTo(0.5, 1);
  });

  it('follows the Zipf law: rank 1 about twice as often as rank 2 for exponent 1', () => {
    const sequence = requestSequence(workload(Distribution.DISTRIBUTION_ZIPF), 100);
    const first = share(sequence, (key) => key === 0);
    const second = share(sequence, (key) => key === 1);
    expect(first / second).toBeCloseTo(2, 0);
    expect(first).toBeCloseTo(zipfCumulative(100, 1)[0], 2);
  });

  it('stays inside a key space smaller than asked for', () => {
    expect(Math.max(...requestSequence(workload(Distribution.DISTRIBUTION_ZIPF), 7))).toBeLessThan(
      7,
    );
  });
});
