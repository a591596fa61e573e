export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Checks every `everyMs` until `check` gives a value, for `forMs` at most; null if none came. */
export async function poll<T>(
  check: () => Promise<T | null>,
  forMs: number,
  everyMs: number,
): Promise<T | null> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    await sleep(everyMs);
    const value = await check();
    if (value !== null) return value;
  }
  return null;
}
