import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { fenceKey, leaseKey } from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { CacheTtl } from './cache-ttl';
import { newGeneration } from './movie-cache.store';

// Starts a miss. KEYS: lease, fence. ARGV: token ('' to skip the lease), lease ms, new
// generation, fence ttl. Reads (or creates) the fence the fill will be checked against, and
// tries to take the lease.
const BEGIN_MISS = `
local fence = redis.call('GET', KEYS[2])
if fence then
  redis.call('EXPIRE', KEYS[2], ARGV[4])
else
  fence = ARGV[3] .. ':0'
  redis.call('SET', KEYS[2], fence, 'EX', ARGV[4])
end
local leased = 0
if ARGV[1] ~= '' then
  leased = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0
end
return {leased, fence}`;

// Releases a fill lease only if this caller still holds it.
const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface MissTicket {
  /** The lease token, or null while another instance fills this lookup. */
  lease: string | null;
  /** The write fence as it was before this miss reads MongoDB. */
  fence: string;
}

/**
 * One fill per cold lookup across instances (a short Redis lease, SET NX PX FILL_LEASE_MS), and
 * the write fence each fill is checked against, read in the same round trip.
 */
@Injectable()
export class FillLeases {
  private readonly scripts: Redis & {
    beginMiss(...keysAndArgs: string[]): Promise<[number, string]>;
    releaseLease(key: string, token: string): Promise<number>;
  };

  constructor(
    private readonly redis: RedisCircuit,
    private readonly ttl: CacheTtl,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    redis.client.defineCommand('beginMiss', { numberOfKeys: 2, lua: BEGIN_MISS });
    redis.client.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    this.scripts = redis.client as typeof this.scripts;
  }

  async begin(lease: string, tag: string, withLease = true): Promise<MissTicket> {
    const token = withLease ? randomUUID() : '';
    const [leased, fence] = await this.redis.run('cache', () =>
      this.scripts.beginMiss(
        lease,
        fenceKey(tag),
        token,
        String(this.config.fillLeaseMs),
        newGeneration(),
        String(this.ttl.fenceSeconds),
      ),
    );
    return { lease: leased === 1 ? token : null, fence };
  }

  /** The fence now (created if lost), for a miss whose fill was refused and reads again. */
  async fence(tag: string): Promise<string> {
    return (await this.begin(leaseKey(tag), tag, false)).fence;
  }

  async release(leaseKey: string, token: string): Promise<void> {
    await this.redis.run('cache', () => this.scripts.releaseLease(leaseKey, token));
  }
}
