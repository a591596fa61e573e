import { Injectable } from '@nestjs/common';
import { MovieCacheStore } from './movie-cache.store';

/**
 * Ids written while Redis was unreachable: their cached copies may be stale, so they are read
 * from MongoDB until Redis answers again and the copies are evicted.
 */
@Injectable()
export class OutageLedger {
  private readonly dirty = new Set<string>();

  constructor(private readonly store: MovieCacheStore) {}

  markDirty(id: string): void {
    this.dirty.add(id);
  }

  isDirty(id: string): boolean {
    return this.dirty.has(id);
  }

  /** Called after a fill of a dirty id: if the fill was refused, the stale copy is evicted. */
  async settle(id: string, stored: boolean): Promise<void> {
    if (this.dirty.delete(id) && !stored) await this.store.evict([id]);
  }

  clear(id: string): void {
    this.dirty.delete(id);
  }

  /** Evicts the copies of ids written during an outage; called once Redis answers again. */
  async evictDirty(): Promise<number> {
    const ids = [...this.dirty];
    if (ids.length === 0) return 0;
    await this.store.evict(ids);
    ids.forEach((id) => this.dirty.delete(id));
    return ids.length;
  }
}
