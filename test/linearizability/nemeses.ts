import { setTimeout as delay } from 'node:timers/promises';
import type Redis from 'ioredis';
import { fenceKey, leaseKey, movieKey, storedTitleKey, titleTag } from '../../src/redis/cache-keys';
import type { ServiceProcess } from '../support/service-process';
import { until } from '../support/wait';
import type { Register } from './history';
import type { PhaseServers } from './servers';

export interface NemesisContext {
  servers: PhaseServers;
  instances: ServiceProcess[];
  movies: Register[];
  nearCacheLeaseMs: number;
  clock(): number;
  /** Records a fault that began at `start` (clock time) and ends now. */
  episode(what: string, start: number): void;
  /** Aborts at the end of the phase: the nemesis then heals what it did and resolves. */
  stop: AbortSignal;
}

export interface Nemesis {
  name: string;
  /** Runs on a Redis Cluster even without --cluster. */
  needsCluster: boolean;
  summary: string;
  run(ctx: NemesisContext): Promise<void>;
}

/** Waits `ms`, or less when the phase ends. */
const pause = (ms: number, stop: AbortSignal) =>
  delay(ms, undefined, { signal: stop }).catch(() => undefined);

const between = (min: number, max: number) => min + Math.random() * (max - min);

/** A movie's keys the service reads and writes behind its own back: copy, fence, lease, title. */
function keysOf(movie: Register): string[] {
  const tag = titleTag(movie.title);
  return [
    movieKey(movie.id),
    fenceKey(movie.id),
    leaseKey(movie.id),
    storedTitleKey(tag),
    fenceKey(tag),
    leaseKey(tag),
  ];
}

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

const evictedKeys = async (redis: Redis) =>
  Number(/evicted_keys:(\d+)/.exec(await redis.info('stats'))![1]);

/** maxmemory a few MB above what Redis holds now, and a flood of other keys to push past it. */
type EvictionPolicy = 'allkeys-lru' | 'allkeys-random' | 'volatile-ttl' | 'volatile-lru';

function maxmemory(policy: EvictionPolicy): Nemesis['run'] {
  const headroom = 4 * 1024 * 1024;
  const value = 'x'.repeat(1024);
  return async ({ servers, stop, clock, episode }) => {
    const start = clock();
    await servers.onMasters(async (master) => {
      await master.config('SET', 'maxmemory-policy', policy);
      await master.config('SET', 'maxmemory', String((await usedMemory(master)) + headroom));
    });
    let written = 0;
    try {
      while (!stop.aborted) {
        await Promise.all(
          Array.from({ length: 100 }, () => {
            const key = `flood:${written++}`;
            // Under volatile-* only keys with a TTL go (volatile-ttl: the shortest first); the
            // flood's are long, so the service's own keys are what goes.
            const set = policy.startsWith('volatile-')
              ? servers.keys.set(key, value, 'EX', 3_600)
              : servers.keys.set(key, value);
            return set.catch(() => undefined);
          }),
        );
        await pause(10, stop);
      }
    } finally {
      const evicted = (await servers.onMasters(evictedKeys)).reduce((a, b) => a + b, 0);
      await servers.onMasters((master) => master.config('SET', 'maxmemory', '0'));
      episode(`maxmemory ${policy}: ${written} flood keys written, ${evicted} keys evicted`, start);
    }
  };
}

export const NEMESES: Nemesis[] = [
  {
    name: 'none',
    needsCluster: false,
    summary: 'no fault',
    run: async ({ stop }) => {
      await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
    },
  },
  {
    name: 'delete-keys',
    needsCluster: false,
    summary: 'copies, fences, leases and title keys deleted behind the service every 1-5 ms',
    run: async ({ servers, movies, stop, clock, episode }) => {
      const start = clock();
      let deleted = 0;
      while (!stop.aborted) {
        const movie = movies[Math.floor(Math.random() * movies.length)];
        const some = keysOf(movie).filter(() => Math.random() < 0.5);
        const counts = await Promise.all(some.map((key) => servers.keys.del(key).catch(() => 0)));
        deleted += counts.reduce((a, b) => a + b, 0);
        await pause(between(1, 5), stop);
      }
      episode(`keys deleted every 1-5 ms: ${deleted} deleted`, start);
    },
  },
  {
    name: 'lru',
    needsCluster: false,
    summary: 'maxmemory 4 MB above use, allkeys-lru, under a flood of other keys',
    run: maxmemory('allkeys-lru'),
  },
  {
    name: 'random',
    needsCluster: false,
    summary: 'maxmemory 4 MB above use, allkeys-random, under a flood of other keys',
    run: maxmemory('allkeys-random'),
  },
  {
    name: 'volatile-ttl',
    needsCluster: false,
    summary: 'maxmemory 4 MB above use, volatile-ttl, under a flood of keys with a 1 h TTL',
    run: maxmemory('volatile-ttl'),
  },
  {
    name: 'volatile-lru',
    needsCluster: false,
    summary: 'maxmemory 4 MB above use, volatile-lru, under a flood of keys with a 1 h TTL',
    run: maxmemory('volatile-lru'),
  },
  {
    name: 'pause-instance',
    needsCluster: false,
    summary: 'an instance SIGSTOPped for 3 near-cache leases, then SIGCONT, each in turn',
    run: async ({ instances, nearCacheLeaseMs, stop, clock, episode }) => {
      for (let turn = 0; !stop.aborted; turn += 1) {
        await pause(1_000, stop);
        if (stop.aborted) break;
        const i = turn % instances.length;
        const start = clock();
        instances[i].signal('SIGSTOP');
        try {
          await pause(3 * nearCacheLeaseMs, stop);
        } finally {
          instances[i].signal('SIGCONT');
        }
        episode(`instance ${i} SIGSTOPped`, start);
      }
    },
  },
  {
    name: 'client-pause',
    needsCluster: false,
    summary: 'CLIENT PAUSE ALL for 100-800 ms (REDIS_TIMEOUT_MS is 500), again and again',
    run: async ({ servers, stop, clock, episode }) => {
      while (!stop.aborted) {
        const ms = Math.round(between(100, 800));
        const start = clock();
        await servers.onMasters((master) => master.call('CLIENT', 'PAUSE', String(ms), 'ALL'));
        // Healed when the pause has run out: an unpause would wait behind it.
        await delay(ms);
        episode(`CLIENT PAUSE ${ms} ms`, start);
        await pause(between(300, 800), stop);
      }
    },
  },
  {
    name: 'redis-restart',
    needsCluster: false,
    summary: 'Redis SIGKILLed and restarted empty on the same port(s) 1 s later, every 3.5 s',
    run: async ({ servers, stop, clock, episode }) => {
      while (!stop.aborted) {
        await pause(1_500, stop);
        if (stop.aborted) break;
        const start = clock();
        await servers.killRedis();
        try {
          await pause(1_000, stop);
        } finally {
          await servers.restartRedis();
        }
        episode('Redis SIGKILLed, restarted empty', start);
        await pause(1_000, stop);
      }
    },
  },
  {
    name: 'failover',
    needsCluster: true,
    summary: "a master of the movies' slots SIGKILLed, its replica promoted, it rejoins as replica",
    run: async ({ servers, movies, stop, clock, episode }) => {
      const cluster = servers.cluster!;
      while (!stop.aborted) {
        await pause(1_000, stop);
        if (stop.aborted) break;
        const masters = await Promise.all(movies.map((m) => cluster.masterOf(movieKey(m.id))));
        const victim = masters
          .map((node) => ({ node, serves: masters.filter((m) => m === node).length }))
          .sort((a, b) => b.serves - a.serves)[0].node;
        const start = clock();
        victim.signal('SIGKILL');
        const served = movies.filter((_, i) => masters[i] === victim);
        await until(
          async () => (await cluster.masterOf(movieKey(served[0].id))) !== victim,
          20_000,
        );
        episode(`master :${victim.port} SIGKILLed, its replica promoted`, start);
        const rejoin = clock();
        await cluster.restart(victim);
        await cluster.settled();
        episode(`:${victim.port} rejoined as a replica`, rejoin);
      }
    },
  },
];
