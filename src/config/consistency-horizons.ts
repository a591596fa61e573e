import { z } from 'zod';

/** Checks at most this long after an answer: the checker keeps every sample until then. */
export const MAX_HORIZON_SECONDS = 3_600;
const MAX_HORIZONS = 5;

/**
 * CONSISTENCY_HORIZONS: whole seconds after an answer at which it is checked, comma-separated
 * (`1,10,60`), distinct, 1 to 3,600, at most five. Throws a message for the variable.
 */
export function parseHorizons(value: string): number[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('needs at least one horizon in seconds, e.g. 1,10,60');
  if (entries.length > MAX_HORIZONS) throw new Error(`takes at most ${MAX_HORIZONS} horizons`);
  const seconds = entries.map((entry) => {
    const n = Number(entry);
    if (!/^\d+$/.test(entry) || n < 1 || n > MAX_HORIZON_SECONDS)
      throw new Error(`entry "${entry}" is not a whole number of seconds from 1 to 3600`);
    return n;
  });
  if (new Set(seconds).size !== seconds.length) throw new Error('names a horizon twice');
  return seconds.sort((a, b) => a - b);
}

/** The CONSISTENCY_HORIZONS variable (default 1, 10 and 60 seconds). */
export const consistencyHorizons = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return parseHorizons(value || '1,10,60');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
