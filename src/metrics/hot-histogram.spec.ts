import { Histogram, Registry } from 'prom-client';
import { HotHistogram } from './hot-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe(HotHistogram.name, () => {
  it("exports what prom-client's histogram exports for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hot = new HotHistogram('d_seconds', 'how long', BUCKETS, ours);
    const reference = new Histogram({
      name: 'd_seconds',
      help: 'how long',
      labelNames: ['status'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const hit = hot.labels({ status: 'hit' });
    const miss = hot.labels({ status: 'miss' });
    // On a bound, between bounds, past the last one, and zero.
    const seen = { hit: [0.001, 0.0005, 0.05, 2, 0], miss: [0.01, 0.5] };
    for (const [status, values] of Object.entries(seen))
      for (const value of values) {
        (status === 'hit' ? hit : miss).observe(value);
        reference.observe({ status }, value);
      }

    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('d_seconds_bucket{le="0.01",status="hit"} 3');

    ours.resetMetrics();
    expect(await ours.metrics()).toContain('d_seconds_count{status="hit"} 0');
  });
});
