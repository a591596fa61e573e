import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';

const CHOSEN = createContextKey('movie-cache.call-sampled');

/** The parent of a call's span once `sampleCall()` chose it: the SDK's sampler then agrees. */
export const CHOSEN_CALL: Context = ROOT_CONTEXT.setValue(CHOSEN, true);

export const isChosenCall = (context: Context): boolean => context.getValue(CHOSEN) === true;

let rootRatio = 0;

/** Set by the sampler tracing builds (sampling.ts): 0 while tracing is off. */
export function setRootRatio(ratio: number): void {
  rootRatio = ratio;
}

/**
 * Whether a call that carries no trace is traced, decided before any span exists: an unsampled
 * call (a near-cache hit most of all) creates no span, which costs ~2 µs even when not recorded.
 * Apart from the SDK's sampler, which is loaded only with tracing on.
 */
export const sampleCall = (): boolean =>
  rootRatio >= 1 || (rootRatio > 0 && Math.random() < rootRatio);
