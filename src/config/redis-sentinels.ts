import { z } from 'zod';
import { parseHostPort } from './redis-cluster-nodes';

/** A master group watched by Redis Sentinel, and how to log in to its master. */
export interface RedisSentinelConfig {
  sentinels: Array<{ host: string; port: number }>;
  /** The master group name Sentinel knows the master by. */
  name: string;
  /** TLS, AUTH and database of the master, from REDIS_URL when given (its host is not used). */
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** The REDIS_SENTINELS variable: unset or empty, or `host:port` entries, comma-separated. */
export const redisSentinels = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (!value?.trim()) return undefined;
    try {
      const entries = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      if (entries.length === 0) throw new Error('names no sentinel');
      return entries.map(parseHostPort);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** The REDIS_SENTINEL_NAME variable: a master group name (Sentinel's names have no spaces). */
export const redisSentinelName = z
  .string()
  .trim()
  .regex(/^\S+$/, 'must be a master group name, without spaces')
  .optional();

export const DEFAULT_SENTINEL_NAME = 'mymaster';

/** The master group behind `sentinels`, with REDIS_URL's TLS, AUTH and database if given. */
export function sentinelConfig(
  sentinels: RedisSentinelConfig['sentinels'],
  name: string,
  redisUrl?: string,
): RedisSentinelConfig {
  const url = redisUrl ? new URL(redisUrl) : undefined;
  return {
    sentinels,
    name,
    tls: url?.protocol === 'rediss:',
    username: decodeURIComponent(url?.username ?? '') || undefined,
    password: decodeURIComponent(url?.password ?? '') || undefined,
    db: Number(url?.pathname.slice(1)) || 0,
  };
}
