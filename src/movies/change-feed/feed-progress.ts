import type { MetricsService } from '../../metrics/metrics.service';
import type { MovieChange } from './change-source';

/** off: no source; standby: another instance leads; recovering: failing, retried. */
export type FeedState = 'off' | 'starting' | 'standby' | 'leading' | 'recovering';

export interface ChangeFeedStats {
  source: string;
  state: FeedState;
  leader: boolean;
  applied: number;
  lastLagMs: number;
  resumes: number;
  flushes: number;
}

export type FlushReason = 'no-token' | 'history-lost' | 'collection';

/** What the change feed has done, for GetCacheStats; each step counted in the metrics too. */
export class FeedProgress {
  private readonly progress: ChangeFeedStats = {
    source: '',
    state: 'starting',
    leader: false,
    applied: 0,
    lastLagMs: 0,
    resumes: 0,
    flushes: 0,
  };

  constructor(private readonly metrics: MetricsService) {}

  stats(): ChangeFeedStats {
    return { ...this.progress };
  }

  get source(): string {
    return this.progress.source;
  }

  set source(name: string) {
    this.progress.source = name;
  }

  set state(state: FeedState) {
    this.progress.state = state;
  }

  set leader(leader: boolean) {
    this.progress.leader = leader;
    this.metrics.feedLeader.set(leader ? 1 : 0);
  }

  /** Changes just applied to every cache: counted, each with its lag behind the database. */
  applied(changes: MovieChange[]): void {
    const appliedAt = Date.now();
    for (const change of changes) {
      const lagMs = Math.max(0, appliedAt - change.at);
      this.metrics.feedChanges.inc({ op: change.op });
      this.metrics.feedLag.observe(lagMs / 1000);
      this.progress.lastLagMs = lagMs;
    }
    this.progress.applied += changes.length;
  }

  resumed(): void {
    this.progress.resumes += 1;
    this.metrics.feedResumes.inc();
  }

  flushed(reason: FlushReason): void {
    this.progress.flushes += 1;
    this.metrics.feedFlushes.inc({ reason });
  }
}
