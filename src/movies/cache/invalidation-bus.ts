import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { sleep } from '../../common/sleep';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import {
  NEAR_CACHE_CHANNEL,
  NEAR_CACHE_INSTANCES_KEY,
  nearCacheAckChannel,
} from '../../redis/cache-keys';
import { RedisCircuit } from '../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../redis/redis-scripts';
import { ShardSubscriber } from '../../redis/shard-subscriber';
import { FILL_HOOK, type FillHook } from './fill-hook';
import { CachePolicy } from './cache-policy';
import { Acks } from './invalidation-acks';
import { NearCache } from './near-cache';
import { OutageLedger } from './outage-ledger';

const PINGS_PER_LEASE = 5;
/** Leases without hearing its own ping after which a subscription is taken again. */
const SILENT_LEASES = 4;

/**
 * Keeps every instance's near-cache coherent with writes, strictly (lease-based coherence, Gray
 * and Cheriton, SOSP 1989). A writer publishes an invalidation and does not acknowledge its
 * write until every live instance dropped its copy and said so, or until the lease of those
 * that did not has run out. An instance serves from its near-cache only within a lease renewed
 * by hearing its own ping on the channel: ping send time + NEAR_CACHE_LEASE_MS. Every message is
 * published on the one master serving the channel's slot (sharded pub/sub, also on a cluster) and
 * heard there, in order, so an instance that heard a later ping heard every earlier
 * invalidation; one that cannot hear stops serving, and forgets everything, within the lease.
 * A write whose copy may be older than MongoDB (see OutageLedger) is announced as dirty instead:
 * every instance that acknowledges it has marked the id and reads it from MongoDB until repaired.
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  readonly instanceId = randomBytes(8).toString('hex');
  private readonly leaseMs: number;
  /** On a cluster the bus also carries dirty marks, so it runs with the near-cache off too. */
  private readonly active: boolean;
  private subscriber?: ShardSubscriber;
  private timer?: NodeJS.Timeout;
  private pingSeq = 0;
  private lastHeard = 0;
  private readonly pingsSent = new Map<number, number>();
  /** Acks by invalidation; registered before publishing, as an ack can beat the script's reply. */
  private readonly acks = new Map<string, Acks>();

  constructor(
    private readonly redis: RedisCircuit,
    private readonly near: NearCache,
    private readonly ledger: OutageLedger,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(FILL_HOOK) private readonly hooks: FillHook,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    policy: CachePolicy,
  ) {
    this.leaseMs = policy.nearLeaseMs;
    this.active = near.enabled || config.redisCluster !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.active) return;
    this.subscriber = new ShardSubscriber(
      this.redis.client,
      [NEAR_CACHE_CHANNEL, nearCacheAckChannel(this.instanceId)],
      `movie-cache-invalidations-${this.instanceId}`,
      {
        message: (_channel, message) => void this.receive(message),
        // Any gap in the subscription may have lost invalidations.
        gap: () => this.near.revoke(),
      },
    );
    // Redis may be away at boot: the near-cache then serves once the subscription is taken.
    await Promise.race([this.subscriber.start(), sleep(this.leaseMs)]);
    this.timer = setInterval(() => void this.ping(), this.leaseMs / PINGS_PER_LEASE);
    this.timer.unref();
    void this.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.near.revoke();
    await this.subscriber?.close();
  }

  /**
   * After a write of `id`, before it is acknowledged: every instance's near-cache drops the movie,
   * or stops serving; a dirty id is marked everywhere. This instance's copy is dropped at once.
   */
  async invalidate(id: string): Promise<void> {
    this.near.invalidate(id);
    await this.ledger.confirmInstalled(id);
    if (!this.active) return;
    const kind = this.ledger.isDirty(id) ? 'd' : 'i';
    const nonce = randomBytes(8).toString('hex');
    const acks = new Acks();
    this.acks.set(nonce, acks);
    let live: string[];
    try {
      live = await this.redis.run('invalidate', () =>
        this.scripts.invalidate(
          NEAR_CACHE_INSTANCES_KEY,
          NEAR_CACHE_CHANNEL,
          `${kind} ${this.instanceId} ${nonce} ${id}`,
        ),
      );
    } catch {
      // Unheard: every other instance stops serving within its lease, counted from before now.
      this.acks.delete(nonce);
      await sleep(this.leaseMs);
      return;
    }
    // Those that do not ack in time have stopped serving by then: their lease began before now.
    const acknowledged = acks.expect(live.filter((instance) => instance !== this.instanceId));
    let timer: NodeJS.Timeout | undefined;
    const leaseOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.leaseMs)));
    await Promise.race([acknowledged, leaseOver]);
    clearTimeout(timer);
    this.acks.delete(nonce);
  }

  private async receive(message: string): Promise<void> {
    if (this.hooks.beforeDelivery && !(await this.hooks.beforeDelivery(message))) return;
    const [kind, from, token, id] = message.split(' ');
    if ((kind === 'i' || kind === 'd') && from !== this.instanceId) {
      if (kind === 'd') this.ledger.markDirty(id);
      void this.apply(from, token, id);
    } else if (kind === 'a') {
      this.acks.get(from)?.add(token);
    } else if (kind === 'p' && from === this.instanceId) {
      this.heard(Number(token));
    }
  }

  private async apply(writer: string, nonce: string, id: string): Promise<void> {
    this.near.invalidate(id);
    await this.redis.client
      .spublish(nearCacheAckChannel(writer), `a ${nonce} ${this.instanceId}`)
      .catch(() => undefined);
  }

  /**
   * Our own ping came back, so everything published before it was heard. The registration is
   * renewed first: a writer waits for every registered instance, and this one serves no longer
   * than it is registered.
   */
  private heard(seq: number): void {
    const sentAt = this.pingsSent.get(seq);
    if (sentAt === undefined) return;
    this.lastHeard = performance.now();
    for (const old of this.pingsSent.keys()) if (old <= seq) this.pingsSent.delete(old);
    void this.scripts
      .registerInstance(NEAR_CACHE_INSTANCES_KEY, this.instanceId, this.leaseMs)
      .then(() => this.near.extendLease(sentAt + this.leaseMs))
      .catch(() => undefined);
  }

  private async ping(): Promise<void> {
    if (!this.subscriber?.ready) {
      this.lastHeard = performance.now();
      return;
    }
    // Subscribed but deaf (e.g. the slot moved away from its master): subscribe again.
    if (performance.now() - this.lastHeard > SILENT_LEASES * this.leaseMs) {
      this.lastHeard = performance.now();
      this.subscriber.recycle();
      return;
    }
    const seq = ++this.pingSeq;
    this.pingsSent.set(seq, performance.now());
    if (this.pingsSent.size > 4 * PINGS_PER_LEASE) this.pingsSent.delete(seq - 4 * PINGS_PER_LEASE);
    await this.redis.client
      .spublish(NEAR_CACHE_CHANNEL, `p ${this.instanceId} ${seq}`)
      .catch(() => undefined);
  }
}
