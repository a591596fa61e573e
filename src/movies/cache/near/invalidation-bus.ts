import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { sleep } from '../../../common/sleep';
import { NEAR_CACHE_CHANNEL, nearCacheAckChannel } from '../../../redis/cache-keys';
import { RedisCircuit } from '../../../redis/redis-circuit';
import { ShardSubscriber } from '../../../redis/shard-subscriber';
import { CACHE_HOOKS, type CacheHooks } from '../cache-hooks';
import { CachePolicy } from '../cache-policy';
import { CacheInstance, decodeMessage, type WriteKind } from './coherence-messages';
import { NearCache } from './near-cache';
import { NearCacheLease } from './near-cache-lease';
import { WriteAcks } from './write-acks';

/**
 * Turns the near-cache channel's messages into near-cache drops, acks and lease
 * renewals, and sends a write's invalidation. One master orders every message (sharded pub/sub).
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  private subscriber?: ShardSubscriber;

  constructor(
    private readonly redis: RedisCircuit,
    private readonly near: NearCache,
    private readonly lease: NearCacheLease,
    private readonly acks: WriteAcks,
    private readonly instance: CacheInstance,
    private readonly policy: CachePolicy,
    @Inject(CACHE_HOOKS) private readonly hooks: CacheHooks,
  ) {}

  /**
   * Every instance writes, so it hears the channel (its own invalidations, everyone's pings) and
   * its acks; only one with a near-cache applies invalidations, pings and registers, so writers
   * wait for it.
   */
  async onModuleInit(): Promise<void> {
    this.subscriber = new ShardSubscriber(
      this.redis.client,
      [NEAR_CACHE_CHANNEL, nearCacheAckChannel(this.instance.id)],
      `movie-cache-invalidations-${this.instance.id}`,
      {
        message: (_channel, message) => void this.receive(message),
        // Any gap in the subscription may have lost invalidations.
        gap: () => this.near.revoke(),
      },
    );
    // Redis may be away at boot: the near-cache then serves once the subscription is taken.
    await Promise.race([this.subscriber.start(), sleep(this.policy.nearLeaseMs)]);
    if (this.near.enabled) this.lease.start(this.subscriber);
  }

  async onApplicationShutdown(): Promise<void> {
    this.lease.stop();
    this.near.revoke();
    await this.subscriber?.close();
  }

  /** Every instance's near-cache drops the movie (or stops serving) before this returns. */
  async invalidate(id: string): Promise<void> {
    this.near.invalidate(id);
    await this.acks.publish('invalidate', id);
  }

  /** A write outside the service may have moved this title: no instance resolves it from memory. */
  async forgetTitle(titleKey: string): Promise<void> {
    this.near.forgetTitle(titleKey);
    await this.acks.publish('title', titleKey);
  }

  /** Any movie may have changed: every instance forgets its whole near-cache. */
  async flush(): Promise<void> {
    this.near.clear();
    await this.acks.publish('flush', '*');
  }

  private async receive(line: string): Promise<void> {
    if (this.hooks.beforeDelivery && !(await this.hooks.beforeDelivery(line))) return;
    const message = decodeMessage(line);
    if (!message) return;
    switch (message.kind) {
      case 'dirty':
      case 'invalidate':
      case 'title':
      case 'flush':
        if (message.writer === this.instance.id) return this.acks.echoed(message.nonce);
        if (!this.near.enabled) return;
        this.apply(message.kind, message.id);
        await this.acks.acknowledge(message.writer, message.nonce);
        return;
      case 'ack':
        this.acks.received(message.nonce, message.instance);
        return;
      case 'ping':
        this.acks.pinged(message.instance);
        if (message.instance === this.instance.id) this.lease.heard(message.seq);
    }
  }

  private apply(kind: WriteKind, id: string): void {
    if (kind === 'title') return this.near.forgetTitle(id);
    if (kind === 'flush') return this.near.clear();
    this.near.invalidate(id);
  }
}
