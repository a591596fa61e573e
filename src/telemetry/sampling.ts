import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import type { AppConfig } from '../config/app-config';

const CHOSEN = createContextKey('movie-cache.call-sampled');

/** The parent of a call's span once `sampleCall()` chose it: the SDK's sampler then agrees. */
export const CHOSEN_CALL: Context = ROOT_CONTEXT.setValue(CHOSEN, true);

let rootRatio = 0;

/**
 * Whether a call that carries no trace is traced, decided before any span exists: an unsampled
 * call (a near-cache hit most of all) creates no span, which costs ~2 µs even when not recorded.
 */
export const sampleCall = (): boolean =>
  rootRatio >= 1 || (rootRatio > 0 && Math.random() < rootRatio);

/** OTEL_TRACES_SAMPLER as the SDK would build it, honouring what `sampleCall` chose. */
export function callSampler({ sampler, ratio }: AppConfig['tracing']): Sampler {
  const root =
    sampler === 'always_off' || sampler === 'parentbased_always_off'
      ? new AlwaysOffSampler()
      : sampler === 'traceidratio' || sampler === 'parentbased_traceidratio'
        ? new TraceIdRatioBasedSampler(ratio)
        : new AlwaysOnSampler();
  rootRatio = root instanceof AlwaysOffSampler ? 0 : root instanceof AlwaysOnSampler ? 1 : ratio;
  const inner = sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
  return {
    shouldSample: (context, ...rest): SamplingResult =>
      context.getValue(CHOSEN) === true
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED }
        : inner.shouldSample(context, ...rest),
    toString: () => `CallSampler{${inner.toString()}}`,
  };
}
