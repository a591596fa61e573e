import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { NearCache } from './near/near-cache';
import { WriteFence } from './write-fence';

const REPAIR_EVERY_MS = 100;

/**
 * Ids whose Redis copy may be older than MongoDB, read from MongoDB until repaired. `mark` a write
 * whose copy may not have landed or may not survive a failover (here, or announced by another
 * instance); `settle` once a fill of the id reached Redis; `repairSoon` once a write-through did;
 * `repairAll` when Redis answers again. A repair gives the fence a new generation: every older
 * fill and copy is refused, wherever it comes from.
 */
@Injectable()
export class DirtyIds implements OnModuleDestroy {
  /** Dirty ids, each with the mark it got last: a repair clears only the mark it saw. */
  private readonly dirty = new Map<string, number>();
  private marks = 0;
  private timer?: NodeJS.Timeout;
  private repairing?: Promise<number>;

  constructor(
    private readonly fence: WriteFence,
    private readonly near: NearCache,
  ) {}

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  mark(id: string): void {
    this.dirty.set(id, ++this.marks);
    this.near.invalidate(id);
    this.timer ??= setInterval(() => void this.repairAll().catch(() => 0), REPAIR_EVERY_MS);
    this.timer.unref();
  }

  has(id: string): boolean {
    return this.dirty.has(id);
  }

  /** A fill of the id reached Redis: repaired now, before the filled copy could be kept nearby. */
  async settle(id: string): Promise<void> {
    const mark = this.dirty.get(id);
    if (mark !== undefined) await this.repairMarked([[id, mark]]);
  }

  /** A write-through installed the id's copy: Redis answers, the repair can run now. */
  repairSoon(id: string): void {
    if (this.dirty.has(id)) void this.repairAll().catch(() => 0);
  }

  /** Repairs every dirty id whose slot answers; returns how many. Retried until none is left. */
  repairAll(): Promise<number> {
    this.repairing ??= this.repairEvery().finally(() => (this.repairing = undefined));
    return this.repairing;
  }

  private async repairEvery(): Promise<number> {
    const done = await this.repairMarked([...this.dirty]);
    if (this.dirty.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return done;
  }

  private async repairMarked(marked: Array<[string, number]>): Promise<number> {
    const repaired = await Promise.allSettled(marked.map(([id]) => this.fence.regenerate(id)));
    const done = marked.filter((_, i) => repaired[i].status === 'fulfilled');
    for (const [id, mark] of done) {
      if (this.dirty.get(id) === mark) this.dirty.delete(id);
      // A fill that read the old copy before the repair must not keep it in the near-cache.
      this.near.invalidate(id);
    }
    return done.length;
  }
}
