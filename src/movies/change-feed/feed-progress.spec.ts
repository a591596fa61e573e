import { MetricsService } from '../../metrics/metrics.service';
import { FeedProgress } from './feed-progress';

describe(FeedProgress.name, () => {
  it('shows what the feed did in its stats and in the metrics alike', async () => {
    const metrics = new MetricsService();
    const sut = new FeedProgress(metrics);
    const at = Date.now() - 200;

    sut.source = 'postgres-outbox';
    sut.state = 'leading';
    sut.leader = true;
    sut.applied([
      { op: 'update', id: 'a'.repeat(24), titles: [], at },
      { op: 'delete', id: 'b'.repeat(24), titles: [], at },
    ]);
    sut.resumed();
    sut.flushed('history-lost');
    const stats = sut.stats();
    const text = await metrics.registry.metrics();

    expect(stats).toMatchObject({
      source: 'postgres-outbox',
      state: 'leading',
      leader: true,
      applied: 2,
      resumes: 1,
      flushes: 1,
    });
    expect(stats.lastLagMs).toBeGreaterThanOrEqual(200);
    expect(text).toContain('movie_cache_feed_changes_total{op="update"} 1');
    expect(text).toContain('movie_cache_feed_lag_seconds_count 2');
    expect(text).toContain('\nmovie_cache_feed_leader 1\n');
    expect(text).toContain('\nmovie_cache_feed_resumes_total 1\n');
    expect(text).toContain('movie_cache_feed_flushes_total{reason="history-lost"} 1');
  });
});
