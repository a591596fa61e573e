import { Inject, Injectable } from '@nestjs/common';
import { absentKey, fenceKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import { CachePolicy } from './cache-policy';
import { LogicalClock, type ReadOutcome, type Tick } from './read-outcome';

export type Absent = ReadOutcome & { kind: 'absent' };

/** Lookups known to find no movie, remembered for NEGATIVE_TTL_SECONDS unless a write intervenes. */
@Injectable()
export class NegativeCache {
  constructor(
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
    private readonly clock: LogicalClock,
  ) {}

  /** Remembers the lookup as absent if its fence is still the one the miss saw; true if stored. */
  async remember(tag: string, year: number | undefined, fence: string): Promise<boolean> {
    const ttlSeconds = this.policy.negativeTtlSeconds;
    if (ttlSeconds === 0) return false;
    const stored = await this.redis.run('cache', () =>
      this.scripts.rememberAbsent(absentKey(tag, year), fenceKey(tag), fence, ttlSeconds),
    );
    return stored === 1;
  }

  async isAbsent(tag: string, year?: number): Promise<boolean> {
    return (await this.redis.run('cache', (redis) => redis.exists(absentKey(tag, year)))) === 1;
  }

  /**
   * A miss that began at fence `fence` and read nothing at `readAt`: the absence is remembered
   * unless a write moved the fence since, and is fresh as of its sending if it was.
   */
  async afterMiss(
    tag: string,
    year: number | undefined,
    fence: string,
    readAt: Tick,
  ): Promise<Absent> {
    const sentAt = this.clock.tick();
    let stored = false;
    try {
      stored = await this.remember(tag, year, fence);
    } catch {
      // Redis away: nothing remembered, the answer is fresh as of the read.
    }
    return { kind: 'absent', freshAt: stored ? sentAt : readAt };
  }
}
