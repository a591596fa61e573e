import type { Counter, LabelValues } from 'prom-client';

/** A counter child counted as a plain number (prom-client hashes its labels on every inc). */
export interface HotCount {
  inc(): void;
}

/**
 * Counts on a per-call path kept as plain numbers, and added to their counters whenever a metric
 * is read (a scrape, or `get()`): the counters call `addAll` from their `collect`.
 */
export class HotCounts {
  private readonly pending: Array<() => void> = [];

  /** A child of `counter` with these labels, counted in process until the next `addAll`. */
  count<T extends string>(counter: Counter<T>, labels: LabelValues<T>): HotCount {
    let pending = 0;
    this.pending.push(() => {
      if (pending > 0) counter.inc(labels, pending);
      pending = 0;
    });
    return { inc: () => void (pending += 1) };
  }

  addAll(): void {
    for (const add of this.pending) add();
  }
}
