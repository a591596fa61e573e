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
import { isChosenCall, setRootRatio } from './call-sampling';

/** OTEL_TRACES_SAMPLER as the SDK would build it, honouring what `sampleCall` chose. */
export function callSampler({ sampler, ratio }: AppConfig['tracing']): Sampler {
  const root =
    sampler === 'always_off' || sampler === 'parentbased_always_off'
      ? new AlwaysOffSampler()
      : sampler === 'traceidratio' || sampler === 'parentbased_traceidratio'
        ? new TraceIdRatioBasedSampler(ratio)
        : new AlwaysOnSampler();
  setRootRatio(root instanceof AlwaysOffSampler ? 0 : root instanceof AlwaysOnSampler ? 1 : ratio);
  const inner = sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
  return {
    shouldSample: (context, ...rest): SamplingResult =>
      isChosenCall(context)
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED }
        : inner.shouldSample(context, ...rest),
    toString: () => `CallSampler{${inner.toString()}}`,
  };
}
