import type { Registry } from 'prom-client';

/** One label set of a HotHistogram, observed on a per-call path. */
export interface HotObserver {
  observe(seconds: number): void;
}

/** One line of the export, as prom-client's registry reads it (its histograms' own form). */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
}

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last is past every bound (+Inf). */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram whose children observe into plain numbers: prom-client's validates and
 * hashes the labels on every observe, about 1% of a near-cache hit. Exported in the same form
 * (`_bucket` with `le`, cumulative; `_sum`, `_count`); registered on the registry as a metric.
 */
export class HotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The child with these labels (made once, kept by the caller). */
  labels(labels: Record<string, string>): HotObserver {
    const series: Series = {
      labels,
      counts: new Float64Array(this.buckets.length + 1),
      sum: 0,
      count: 0,
    };
    this.series.push(series);
    const { buckets } = this;
    return {
      observe(seconds: number): void {
        let i = 0;
        while (i < buckets.length && seconds > buckets[i]) i += 1;
        series.counts[i] += 1;
        series.sum += seconds;
        series.count += 1;
      },
    };
  }

  /** What prom-client's registry reads of a metric (a scrape, or getMetricsAsJSON). */
  get() {
    const values: Sample[] = [];
    for (const { labels, counts, sum, count } of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le },
          sharedLabels: labels,
          value: cumulative,
        });
      });
      values.push(
        {
          metricName: `${this.name}_bucket`,
          labels: { le: '+Inf' },
          sharedLabels: labels,
          value: count,
        },
        { metricName: `${this.name}_sum`, labels, value: sum },
        { metricName: `${this.name}_count`, labels, value: count },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
