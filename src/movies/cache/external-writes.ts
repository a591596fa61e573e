import { Inject, Injectable } from '@nestjs/common';
import {
  CACHED_ENTRY_PATTERNS,
  FENCE_KEY_PATTERN,
  fenceKey,
  tagOfFenceKey,
  titleKey,
  titleTag,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { ReplicaAck } from '../../redis/replica-ack';
import { scanMasters } from '../../redis/scan-masters';
import { CachePolicy } from './cache-policy';
import { MOVIE_SOURCE, type MovieSource } from './movie-source';
import { InvalidationBus } from './near/invalidation-bus';
import { WriteFence } from './write-fence';

export interface MovieTitle {
  title: string;
  year?: number;
}

/** A write made outside the service: the movie (when its id is an ObjectId) and titles it touched. */
export interface ExternalChange {
  id?: string;
  titles: MovieTitle[];
}

/**
 * Writes made outside the service (the change feed reports them). Each id is compared with what
 * MongoDB holds now: a copy that is already that (the service's own write, come back through the
 * feed; a change to fields nobody caches) is left alone. Otherwise a new fence generation, at
 * MongoDB's revision, refuses every fill begun before, and the copy and absence go; its titles,
 * old and new, are raised and forget their ids, and then every near-cache is told. Last, every
 * fence it moved must be confirmed by a replica (where Redis has one): until then it throws, the
 * feed keeps its position and applies the batch again, so a failover cannot lose a repair.
 */
@Injectable()
export class ExternalWrites {
  constructor(
    private readonly fence: WriteFence,
    private readonly bus: InvalidationBus,
    private readonly redis: RedisCircuit,
    private readonly replicas: ReplicaAck,
    private readonly policy: CachePolicy,
    @Inject(MOVIE_SOURCE) private readonly source: MovieSource,
  ) {}

  async apply(changes: ExternalChange[]): Promise<void> {
    const ids = [...new Set(changes.flatMap((change) => (change.id ? [change.id] : [])))];
    const repaired = await Promise.all(
      ids.map(async (id) => this.fence.repair(id, await this.source.findById(id))),
    );
    const changed = ids.filter((_, i) => repaired[i] !== 'current');
    const titles = changes.flatMap((change) =>
      !change.id || changed.includes(change.id) ? change.titles : [],
    );
    const dropped = repaired.filter((r): r is MovieTitle => r !== undefined && r !== 'current');
    const touched = distinct([...titles, ...dropped]);
    await Promise.all(touched.map((t) => this.fence.raiseTitle(t.title, t.year, true)));
    // Redis first: a near-cache dropped before would be refilled from the old copy.
    await Promise.all([
      ...changed.map((id) => this.bus.invalidate(id)),
      ...touched.flatMap((t) => nearTitleKeys(t).map((key) => this.bus.forgetTitle(key))),
    ]);
    await this.replicated([...changed, ...touched.map((t) => titleTag(t.title))]);
  }

  /**
   * Any movie may have changed unseen: every fence gets a new generation (fills begun before are
   * refused), every copy, absence and title entry goes, and every near-cache is emptied.
   */
  async flush(): Promise<void> {
    await scanMasters(this.redis.client, FENCE_KEY_PATTERN, async (keys) => {
      await Promise.all(keys.map((key) => this.fence.repair(tagOfFenceKey(key))));
      // One key of the batch: WAIT covers every earlier write to its master.
      await this.replicated(keys.slice(-1).map(tagOfFenceKey));
    });
    for (const match of CACHED_ENTRY_PATTERNS)
      await scanMasters(this.redis.client, match, (keys, node) =>
        node.pipeline(keys.map((key) => ['unlink', key])).exec(),
      );
    await this.bus.flush();
  }

  /** Throws unless a replica has each tag's fence (always so with no replica attached). */
  private async replicated(tags: string[]): Promise<void> {
    const confirmed = await Promise.all(
      tags.map((tag) => this.replicas.confirm(fenceKey(tag), this.policy.fenceSeconds)),
    );
    const lost = tags.filter((_, i) => !confirmed[i]);
    if (lost.length > 0)
      throw new Error(`no replica confirmed the repair of ${lost.slice(0, 3).join(', ')}`);
  }
}

function distinct(titles: MovieTitle[]): MovieTitle[] {
  const seen = new Map(titles.map((t) => [`${t.year ?? 0} ${t.title}`, t]));
  return [...seen.values()];
}

/** The near-cache keys a title is resolved under: with its year, and without. */
const nearTitleKeys = ({ title, year }: MovieTitle): string[] => {
  const tag = titleTag(title);
  return year ? [titleKey(tag), titleKey(tag, year)] : [titleKey(tag)];
};
