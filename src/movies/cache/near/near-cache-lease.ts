import { Inject, Injectable } from '@nestjs/common';
import {
  NEAR_CACHE_CHANNEL,
  NEAR_CACHE_INSTANCES_KEY,
  NEAR_CACHE_WRITES_KEY,
} from '../../../redis/cache-keys';
import { RedisCircuit } from '../../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../../redis/redis-scripts';
import type { ShardSubscriber } from '../../../redis/shard-subscriber';
import { CachePolicy } from '../cache-policy';
import { CacheInstance, encodeMessage } from './coherence-messages';
import { NearCache } from './near-cache';

const PINGS_PER_LEASE = 5;
/** Leases without hearing its own ping after which a subscription is taken again. */
const SILENT_LEASES = 4;

/**
 * Lets the near-cache serve only while this instance provably hears the channel: each ping it
 * hears back renews its lease (ping send time + NEAR_CACHE_LEASE_MS) and its registration.
 */
@Injectable()
export class NearCacheLease {
  private timer?: NodeJS.Timeout;
  private subscriber?: ShardSubscriber;
  private seq = 0;
  private lastHeard = 0;
  private readonly sent = new Map<number, number>();

  constructor(
    private readonly near: NearCache,
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
    private readonly instance: CacheInstance,
  ) {}

  start(subscriber: ShardSubscriber): void {
    this.subscriber = subscriber;
    this.timer = setInterval(() => void this.ping(), this.policy.nearLeaseMs / PINGS_PER_LEASE);
    this.timer.unref();
    void this.ping();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Our own ping came back, so everything published before it was heard. The registration is
   * renewed first: a writer waits for every registered instance, and this one serves no longer
   * than it is registered. It also names the writes in flight, announced before this instance
   * may have heard them.
   */
  heard(seq: number): void {
    const sentAt = this.sent.get(seq);
    if (sentAt === undefined) return;
    this.lastHeard = performance.now();
    for (const old of this.sent.keys()) if (old <= seq) this.sent.delete(old);
    const leaseMs = this.policy.nearLeaseMs;
    void this.scripts
      .registerInstance(NEAR_CACHE_INSTANCES_KEY, NEAR_CACHE_WRITES_KEY, this.instance.id, leaseMs)
      .then((writes) => {
        for (let i = 0; i < writes.length; i += 2)
          this.near.writing(String(writes[i + 1]), Number(writes[i]));
        this.near.extendLease(sentAt + leaseMs);
      })
      .catch(() => undefined);
  }

  private async ping(): Promise<void> {
    if (!this.subscriber?.ready) {
      this.lastHeard = performance.now();
      return;
    }
    // Subscribed but deaf (e.g. the slot moved away from its master): subscribe again.
    if (performance.now() - this.lastHeard > SILENT_LEASES * this.policy.nearLeaseMs) {
      this.lastHeard = performance.now();
      this.subscriber.recycle();
      return;
    }
    const seq = ++this.seq;
    this.sent.set(seq, performance.now());
    if (this.sent.size > 4 * PINGS_PER_LEASE) this.sent.delete(seq - 4 * PINGS_PER_LEASE);
    const ping = encodeMessage({ kind: 'ping', instance: this.instance.id, seq });
    await this.redis.client.spublish(NEAR_CACHE_CHANNEL, ping).catch(() => undefined);
  }
}
