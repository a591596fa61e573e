import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { fenceKey } from '../../redis/cache-keys';
import { ReplicaAck } from '../../redis/replica-ack';
import { CachePolicy } from './cache-policy';
import { NearCache } from './near-cache';
import { WriteFence } from './write-fence';

const REPAIR_EVERY_MS = 100;

/**
 * Ids whose cached copy may be older than MongoDB: written while their Redis slot was
 * unreachable, or acknowledged by a master that had not passed the write to a replica (it may
 * be lost in a failover), here or on another instance (announced through the invalidation bus
 * before the write is acknowledged). They are read from MongoDB until repaired: the repair runs
 * as soon as the slot answers, on every instance that holds the id, and refuses every older fill
 * and copy, wherever it comes from, by giving the fence a new generation (WriteFence.regenerate).
 */
@Injectable()
export class OutageLedger implements OnModuleDestroy {
  /** Dirty ids, each with the mark it got last: a repair clears only the mark it saw. */
  private readonly dirty = new Map<string, number>();
  private marks = 0;
  private timer?: NodeJS.Timeout;
  private repairing?: Promise<number>;

  constructor(
    private readonly fence: WriteFence,
    private readonly replicas: ReplicaAck,
    private readonly policy: CachePolicy,
    private readonly near: NearCache,
  ) {}

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  markDirty(id: string): void {
    this.dirty.set(id, ++this.marks);
    this.near.invalidate(id);
    this.timer ??= setInterval(() => void this.evictDirty().catch(() => 0), REPAIR_EVERY_MS);
    this.timer.unref();
  }

  isDirty(id: string): boolean {
    return this.dirty.has(id);
  }

  /**
   * The write of `id` installed its copy: unless a replica has it too, the id is dirty. (A
   * successful install does not clear an earlier mark: that write may be the newer one.)
   */
  async confirmInstalled(id: string): Promise<void> {
    if (this.dirty.has(id)) return;
    if (!(await this.replicas.confirm(fenceKey(id), this.policy.fenceSeconds))) this.markDirty(id);
  }

  /**
   * A fill of a dirty id reached Redis: its repair runs now, before the filled copy could be kept
   * in the near-cache (the repair drops it there too).
   */
  async settle(id: string): Promise<void> {
    const mark = this.dirty.get(id);
    if (mark !== undefined) await this.repairMarked([[id, mark]]);
  }

  /** A write-through installed the id's copy: Redis answers, the repair can run now. */
  clear(id: string): void {
    if (this.dirty.has(id)) void this.evictDirty().catch(() => 0);
  }

  /** Repairs every dirty id whose slot answers; returns how many. Retried until none is left. */
  evictDirty(): Promise<number> {
    this.repairing ??= this.repairAll().finally(() => (this.repairing = undefined));
    return this.repairing;
  }

  private async repairAll(): Promise<number> {
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
