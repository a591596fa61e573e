import type Redis from 'ioredis';
import { movieKey } from '../../src/redis/cache-keys';

/** Moves a cached copy's logical expiry to `ms` from Redis's clock (negative: past its TTL). */
export async function expireCopyIn(redis: Redis, id: string, ms: number): Promise<void> {
  const [seconds, micros] = (await redis.time()).map(Number);
  await redis.hset(movieKey(id), 'expiresAt', Math.round(seconds * 1000 + micros / 1000 + ms));
}
