import { z } from 'zod';

/** Seed nodes of a Redis Cluster, with the TLS and AUTH settings every node shares. */
export interface RedisClusterConfig {
  nodes: Array<{ host: string; port: number }>;
  tls: boolean;
  username?: string;
  password?: string;
}

const HOST_PORT = /^([^\s/:@]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/;

/**
 * REDIS_CLUSTER_NODES: `host:port` entries, or `redis://` / `rediss://` URLs with
 * `user:password@`, comma-separated. A cluster has one password and one TLS setting, so the URL
 * entries must agree on them and bare entries take them over. Throws a message for the variable.
 */
export function parseClusterNodes(value: string): RedisClusterConfig {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('names no node');
  let shared: Omit<RedisClusterConfig, 'nodes'> | undefined;
  const nodes = entries.map((entry) => {
    if (!entry.includes('://')) return parseHostPort(entry);
    const url = new URL(entry);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      throw new Error(`entry ${url.protocol}// must be redis:// or rediss://`);
    if (url.pathname.length > 1 && url.pathname !== '/0')
      throw new Error('a cluster has only database 0');
    const settings = {
      tls: url.protocol === 'rediss:',
      username: decodeURIComponent(url.username) || undefined,
      password: decodeURIComponent(url.password) || undefined,
    };
    if (shared && JSON.stringify(shared) !== JSON.stringify(settings))
      throw new Error('entries disagree on TLS or credentials');
    shared = settings;
    return parseHostPort(`${url.hostname}:${url.port || 6379}`);
  });
  return { nodes, tls: false, ...shared };
}

/** `host:port` (an IPv6 host in brackets); throws a message for the variable. */
export function parseHostPort(entry: string): { host: string; port: number } {
  const match = HOST_PORT.exec(entry);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new Error(`entry "${entry}" is not host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** The first seed as a URL (credentials included): what REDIS_URL would be for one node. */
export function firstNodeUrl(cluster: RedisClusterConfig): string {
  const url = new URL(`${cluster.tls ? 'rediss' : 'redis'}://placeholder`);
  const [first] = cluster.nodes;
  url.hostname = first.host.includes(':') ? `[${first.host}]` : first.host;
  url.port = String(first.port);
  if (cluster.username) url.username = encodeURIComponent(cluster.username);
  if (cluster.password) url.password = encodeURIComponent(cluster.password);
  return url.toString().replace(/\/$/, '');
}

/** The REDIS_CLUSTER_NODES variable: unset or empty, or a valid seed list. */
export const redisClusterNodes = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (!value?.trim()) return undefined;
    try {
      return parseClusterNodes(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
