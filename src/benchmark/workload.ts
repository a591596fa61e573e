import { randomInt } from 'node:crypto';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { InvalidArgumentError } from '../common/errors';
import { Distribution, type RunBenchmarkRequest } from '../generated/nest/movies/v1/movie_service';

export const MAX_REQUESTS = 1_000_000;
export const MAX_CONCURRENCY = 256;
export const MAX_KEY_SPACE = 100_000;
export const MAX_ZIPF_EXPONENT = 10;
/** Pareto 80/20: this share of requests goes to... */
const HOT_REQUEST_SHARE = 0.8;
/** ...this share of the keys. */
const HOT_KEY_SHARE = 0.2;

export interface Workload {
  requests: number;
  concurrency: number;
  keySpace: number;
  distribution:
    | Distribution.DISTRIBUTION_PARETO_80_20
    | Distribution.DISTRIBUTION_ZIPF
    | Distribution.DISTRIBUTION_UNIFORM;
  zipfExponent: number;
  seed: number;
  warmStart: boolean;
  compareUncached: boolean;
}

function bounded(value: unknown, field: string, defaultValue: number, max: number): number {
  const n = value ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new InvalidArgumentError(field, 'must be an integer');
  if (n < 0 || n > max)
    throw new InvalidArgumentError(field, `must be between 0 (default ${defaultValue}) and ${max}`);
  return n === 0 ? defaultValue : n;
}

/** The request as a workload, defaults applied (0 means the default), or INVALID_ARGUMENT. */
export function parseWorkload(request: Partial<RunBenchmarkRequest>): Workload {
  const distribution = request.distribution ?? Distribution.DISTRIBUTION_UNSPECIFIED;
  if (
    !Object.values(Distribution).includes(distribution) ||
    distribution === Distribution.UNRECOGNIZED
  ) {
    throw new InvalidArgumentError('distribution', 'is not a known distribution');
  }
  const zipfExponent = request.zipfExponent ?? 0;
  if (
    typeof zipfExponent !== 'number' ||
    !Number.isFinite(zipfExponent) ||
    zipfExponent < 0 ||
    zipfExponent > MAX_ZIPF_EXPONENT
  ) {
    throw new InvalidArgumentError(
      'zipf_exponent',
      `must be between 0 (default 1.0) and ${MAX_ZIPF_EXPONENT}`,
    );
  }
  const seed = request.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError('seed', 'must be a non-negative integer below 2^53');
  }
  return {
    requests: bounded(request.requests, 'requests', 500, MAX_REQUESTS),
    concurrency: bounded(request.concurrency, 'concurrency', 1, MAX_CONCURRENCY),
    keySpace: bounded(request.keySpace, 'key_space', 100, MAX_KEY_SPACE),
    distribution:
      distribution === Distribution.DISTRIBUTION_UNSPECIFIED
        ? Distribution.DISTRIBUTION_PARETO_80_20
        : distribution,
    zipfExponent: zipfExponent === 0 ? 1 : zipfExponent,
    seed: seed === 0 ? randomInt(1, 2 ** 47) : seed,
    warmStart: request.warmStart === true,
    compareUncached: request.compareUncached === true,
  };
}

/** Key indexes (0..keys-1) to request, in order; the same workload and key count give the same sequence. */
export function requestSequence(workload: Workload, keys: number): Uint32Array {
  // pure-rand seeds from 32 bits: fold the high bits of the 53-bit seed into them.
  const rng = xoroshiro128plus((workload.seed ^ Math.floor(workload.seed / 2 ** 32)) | 0);
  const int = (min: number, max: number) => uniformInt(rng, min, max);
  const unit = () => int(0, 2 ** 31 - 1) / 2 ** 31;
  const hot = Math.max(1, Math.round(keys * HOT_KEY_SHARE));
  const zipfCdf =
    workload.distribution === Distribution.DISTRIBUTION_ZIPF
      ? zipfCumulative(keys, workload.zipfExponent)
      : undefined;

  const sequence = new Uint32Array(workload.requests);
  for (let i = 0; i < sequence.length; i += 1) {
    switch (workload.distribution) {
      case Distribution.DISTRIBUTION_PARETO_80_20:
        sequence[i] =
          hot === keys || unit() < HOT_REQUEST_SHARE ? int(0, hot - 1) : int(hot, keys - 1);
        break;
      case Distribution.DISTRIBUTION_ZIPF:
        sequence[i] = lowerBound(zipfCdf!, unit());
        break;
      default:
        sequence[i] = int(0, keys - 1);
    }
  }
  return sequence;
}

/** P(rank <= k) for a Zipf law over n ranks: weight of rank k is 1 / k^s. */
export function zipfCumulative(n: number, exponent: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k += 1) {
    total += 1 / Math.pow(k + 1, exponent);
    cdf[k] = total;
  }
  for (let k = 0; k < n; k += 1) cdf[k] /= total;
  return cdf;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
