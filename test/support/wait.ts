import { sleep } from '../../src/common/sleep';

export { sleep };

/** Polls until the check holds (a throwing check counts as not yet), or fails after timeoutMs. */
export async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await sleep(50);
  }
}
