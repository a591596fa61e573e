import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { FEED_LEADER_KEY, FEED_TOKEN_KEY } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';

/**
 * One reader of the change feed per fleet: a lease in Redis, and the resume token beside it,
 * stored only by the instance that holds the lease.
 */
@Injectable()
export class FeedLeader {
  readonly instance = randomBytes(8).toString('hex');
  readonly leaseMs: number;

  constructor(
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.leaseMs = config.changeFeed.leaseMs;
  }

  /** Takes the lease, or renews it; false while another instance holds it. */
  async lead(): Promise<boolean> {
    const led = await this.redis.run('feed', () =>
      this.scripts.feedLead(FEED_LEADER_KEY, this.instance, this.leaseMs),
    );
    return led === 1;
  }

  /** Where the fleet's feed resumes; null if never stored (or evicted). */
  token(): Promise<string | null> {
    return this.redis.run('feed', (redis) => redis.get(FEED_TOKEN_KEY));
  }

  /** Stores the token after an applied batch; false if the lease was lost meanwhile. */
  async save(token: string): Promise<boolean> {
    const saved = await this.redis.run('feed', () =>
      this.scripts.feedSave(FEED_LEADER_KEY, FEED_TOKEN_KEY, this.instance, token),
    );
    return saved === 1;
  }

  /** Lets another instance take over at once (it resumes from the stored token). */
  async resign(): Promise<void> {
    await this.redis
      .run('feed', () => this.scripts.releaseLease(FEED_LEADER_KEY, this.instance))
      .catch(() => undefined);
  }
}
