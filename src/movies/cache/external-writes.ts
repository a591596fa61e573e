import { Injectable } from '@nestjs/common';
import {
  CACHED_ENTRY_PATTERNS,
  FENCE_KEY_PATTERN,
  tagOfFenceKey,
  titleKey,
  titleTag,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { scanMasters } from '../../redis/scan-masters';
import { InvalidationBus } from './near/invalidation-bus';
import { WriteFence } from './write-fence';

export interface MovieTitle {
  title: string;
  year?: number;
}

/**
 * Writes made outside the service (the change feed reports them). Each id is repaired as a dirty
 * one is: a new fence generation refuses every fill begun before, the copy and absence go. Its
 * titles, old and new, are raised and forget their ids, and then every near-cache is told. None
 * of it reads `revision`: other writers need not raise it.
 */
@Injectable()
export class ExternalWrites {
  constructor(
    private readonly fence: WriteFence,
    private readonly bus: InvalidationBus,
    private readonly redis: RedisCircuit,
  ) {}

  async apply(ids: string[], titles: MovieTitle[]): Promise<void> {
    const dropped = await Promise.all(ids.map((id) => this.fence.regenerate(id)));
    const touched = distinct([...titles, ...dropped.filter((t) => t !== undefined)]);
    await Promise.all(touched.map((t) => this.fence.raiseTitle(t.title, t.year, true)));
    // Redis first: a near-cache dropped before would be refilled from the old copy.
    await Promise.all([
      ...ids.map((id) => this.bus.invalidate(id)),
      ...touched.flatMap((t) => nearTitleKeys(t).map((key) => this.bus.forgetTitle(key))),
    ]);
  }

  /**
   * Any movie may have changed unseen: every fence gets a new generation (fills begun before are
   * refused), every copy, absence and title entry goes, and every near-cache is emptied.
   */
  async flush(): Promise<void> {
    await scanMasters(this.redis.client, FENCE_KEY_PATTERN, (keys) =>
      Promise.all(keys.map((key) => this.fence.regenerate(tagOfFenceKey(key)))),
    );
    for (const match of CACHED_ENTRY_PATTERNS)
      await scanMasters(this.redis.client, match, (keys, node) =>
        node.pipeline(keys.map((key) => ['unlink', key])).exec(),
      );
    await this.bus.flush();
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
