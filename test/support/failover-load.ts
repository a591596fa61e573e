import { ObjectId } from 'bson';
import { CacheStatus } from '../../src/generated/client/movies/v1/movie_service';
import type { TestApp } from './test-app';
import { sleep, until } from './wait';

/**
 * Reads and writes on several instances through a Redis failover, checked as they go: errors,
 * reads older than an acknowledged write (stale), acknowledged and refused writes.
 */
export class FailoverLoad {
  readonly ackedAt = new Map<string, Array<{ at: number; revision: number }>>();
  readonly errors: string[] = [];
  /** UpdateRatings refused unsaved (UNAVAILABLE "the rating was not saved"). */
  refusedWrites = 0;
  readonly stale: string[] = [];
  readonly statuses = new Map<CacheStatus, number>();
  unrefreshedWrites = 0;
  private running = true;

  constructor(private readonly ids: string[]) {
    for (const id of ids) this.ackedAt.set(id, []);
  }

  run(readers: TestApp[], writers: TestApp[]): Promise<void[]> {
    const pick = () => this.ids[Math.floor(Math.random() * this.ids.length)];
    const read = async (t: TestApp) => {
      while (this.running) {
        const id = pick();
        const floor = Math.max(-1, ...this.ackedAt.get(id)!.map((w) => w.revision));
        try {
          const { movie, cacheStatus, cacheTier } = await t.api.getMovie({ id });
          this.statuses.set(cacheStatus, (this.statuses.get(cacheStatus) ?? 0) + 1);
          if (movie!.revision < floor)
            this.stale.push(
              `${id}: ${movie!.revision} < ${floor} ${cacheStatus}/${cacheTier} ${t.config.nearCache.enabled} ${Math.round(performance.now())}`,
            );
        } catch (error) {
          this.errors.push(`read ${id}: ${(error as Error).message}`);
        }
      }
    };
    // Each writer its own ids: concurrent updates of one movie lose increments on FerretDB.
    const write = async (t: TestApp, mine: number) => {
      const own = this.ids.filter((_, i) => i % writers.length === mine);
      while (this.running) {
        const id = own[Math.floor(Math.random() * own.length)];
        try {
          const { movie, cacheRefreshed } = await t.api.updateRating({ id, rating: 5 });
          this.ackedAt.get(id)!.push({ at: performance.now(), revision: movie!.revision });
          if (!cacheRefreshed) this.unrefreshedWrites += 1;
        } catch (error) {
          if (/rating was not saved/.test((error as Error).message)) this.refusedWrites += 1;
          else this.errors.push(`write ${id}: ${(error as Error).message}`);
        }
        await sleep(5);
      }
    };
    return Promise.all([...readers.map(read), ...writers.map(write)]);
  }

  stop(): void {
    this.running = false;
  }

  writes(id: string): number {
    return this.ackedAt.get(id)!.length;
  }

  summary(): Record<string, unknown> {
    return {
      reads: [...this.statuses].map(([s, n]) => `${CacheStatus[s]} ${n}`),
      writes: [...this.ackedAt.values()].reduce((n, w) => n + w.length, 0),
      unrefreshedWrites: this.unrefreshedWrites,
      refusedWrites: this.refusedWrites,
      stale: this.stale.length,
    };
  }

  /**
   * MongoDB holds exactly the acknowledged writes (each adds one revision: none lost, no refused
   * one saved), and every instance reads MongoDB's state.
   */
  async expectCoherent(apps: TestApp[]): Promise<void> {
    for (const id of this.ackedAt.keys()) {
      const stored = await apps[0].movies.findOne({ _id: new ObjectId(id) });
      expect({ id, revision: stored?.revision ?? 0 }).toEqual({ id, revision: this.writes(id) });
    }
    await until(async () => {
      for (const t of apps)
        for (const id of this.ackedAt.keys()) {
          const { movie } = await t.api.getMovie({ id });
          if (movie!.revision !== this.writes(id)) return false;
        }
      return true;
    });
  }
}
