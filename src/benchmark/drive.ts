import { setMaxListeners } from 'node:events';

/**
 * Runs `requests` callers' worth of work from `concurrency` workers over one shared sequence.
 * Once `signal` aborts it returns at once, without waiting for calls still in flight.
 */
export async function drive(
  sequence: Uint32Array,
  concurrency: number,
  signal: AbortSignal,
  call: (key: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < sequence.length && !signal.aborted) await call(sequence[next++]);
  };
  // One abort listener per call in flight (each cancels its call).
  setMaxListeners(concurrency + 10, signal);
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([
    Promise.all(Array.from({ length: Math.min(concurrency, sequence.length) }, worker)),
    aborted,
  ]);
}
