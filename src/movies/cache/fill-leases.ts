import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { RedisCircuit } from '../../redis/redis-circuit';

// Releases a fill lease only if this caller still holds it.
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** One fill per cold lookup across instances: a short Redis lease (SET NX PX FILL_LEASE_MS). */
@Injectable()
export class FillLeases {
  private readonly scripts: Redis & { releaseLease(key: string, token: string): Promise<number> };

  constructor(
    private readonly redis: RedisCircuit,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    redis.client.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    this.scripts = redis.client as typeof this.scripts;
  }

  /** A token if this caller may fill the key; null while another instance holds the lease. */
  async acquire(leaseKey: string): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.redis.run('cache', (redis) =>
      redis.set(leaseKey, token, 'PX', this.config.fillLeaseMs, 'NX'),
    );
    return ok === 'OK' ? token : null;
  }

  async release(leaseKey: string, token: string): Promise<void> {
    await this.redis.run('cache', () => this.scripts.releaseLease(leaseKey, token));
  }
}
