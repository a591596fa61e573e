import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { absentKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';

/** Lookups known to find no movie, remembered for NEGATIVE_TTL_SECONDS. */
@Injectable()
export class NegativeCache {
  constructor(
    private readonly redis: RedisCircuit,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async remember(tag: string, year?: number): Promise<void> {
    if (this.config.negativeTtlSeconds === 0) return;
    await this.redis.run('cache', (redis) =>
      redis.set(absentKey(tag, year), '1', 'EX', this.config.negativeTtlSeconds),
    );
  }

  async isAbsent(tag: string, year?: number): Promise<boolean> {
    return (await this.redis.run('cache', (redis) => redis.exists(absentKey(tag, year)))) === 1;
  }
}
