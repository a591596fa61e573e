import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { sleep } from '../../../common/sleep';
import {
  NEAR_CACHE_CHANNEL,
  NEAR_CACHE_INSTANCES_KEY,
  NEAR_CACHE_WRITES_KEY,
  nearCacheAckChannel,
} from '../../../redis/cache-keys';
import { RedisCircuit } from '../../../redis/redis-circuit';
import { REDIS_SCRIPTS, type RedisScripts } from '../../../redis/redis-scripts';
import { CachePolicy } from '../cache-policy';
import { CacheInstance, encodeMessage, type WriteKind } from './coherence-messages';

/** The acks of one invalidation: those received, and once the live instances are known, the wait. */
class Acks {
  private readonly received = new Set<string>();
  private missing?: Set<string>;
  private done?: () => void;
  /** Resolves when the writer hears its own invalidation: every earlier ping was heard by then. */
  readonly echoed: Promise<void>;
  echo!: () => void;

  constructor() {
    this.echoed = new Promise((resolve) => (this.echo = resolve));
  }

  add(instance: string): void {
    if (!this.missing) this.received.add(instance);
    else if (this.missing.delete(instance) && this.missing.size === 0) this.done?.();
  }

  /** Resolves once every one of `instances` has acked. */
  expect(instances: string[]): Promise<void> {
    this.missing = new Set(instances.filter((instance) => !this.received.has(instance)));
    if (this.missing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.done = resolve));
  }
}

/**
 * A write's invalidation, published to every instance, and the wait until each live one has
 * acknowledged it or its lease has run out (then it has stopped serving its near-cache). Live
 * are those the registry names, and those whose pings this instance heard within a lease: the
 * registry is a key Redis may evict, lose or prune by a clock that stepped.
 */
@Injectable()
export class WriteAcks {
  /** Registered before publishing, as an ack can beat the script's reply. */
  private readonly pending = new Map<string, Acks>();
  /** When each instance's latest ping was heard here (performance.now()). */
  private readonly pings = new Map<string, number>();

  constructor(
    private readonly redis: RedisCircuit,
    @Inject(REDIS_SCRIPTS) private readonly scripts: RedisScripts,
    private readonly policy: CachePolicy,
    private readonly instance: CacheInstance,
  ) {}

  async publish(kind: WriteKind, id: string): Promise<void> {
    const nonce = randomBytes(8).toString('hex');
    const acks = new Acks();
    this.pending.set(nonce, acks);
    const message = encodeMessage({ kind, writer: this.instance.id, nonce, id });
    let live: string[];
    try {
      live = await this.redis.run('invalidate', () =>
        this.scripts.invalidate(
          NEAR_CACHE_INSTANCES_KEY,
          NEAR_CACHE_WRITES_KEY,
          NEAR_CACHE_CHANNEL,
          message,
          kind === 'invalidate' ? id : '',
          this.policy.writeWindowMs,
        ),
      );
    } catch {
      // Unheard: every other instance stops serving within its lease, counted from before now.
      this.pending.delete(nonce);
      await sleep(this.policy.nearLeaseMs);
      return;
    }
    // Those that do not ack in time have stopped serving by then: their lease began before now.
    let timer: NodeJS.Timeout | undefined;
    const leaseOver = new Promise<'over'>((resolve) => {
      timer = setTimeout(() => resolve('over'), this.policy.nearLeaseMs);
    });
    if ((await Promise.race([acks.echoed, leaseOver])) !== 'over') {
      const heard = this.heardWithin(this.policy.nearLeaseMs);
      const expected = new Set([...live, ...heard]);
      expected.delete(this.instance.id);
      await Promise.race([acks.expect([...expected]), leaseOver]);
    }
    clearTimeout(timer);
    this.pending.delete(nonce);
  }

  /** This instance heard its own invalidation come back. */
  echoed(nonce: string): void {
    this.pending.get(nonce)?.echo();
  }

  /** An instance's ping was heard: it may serve a near-cache for a lease from its sending. */
  pinged(instance: string): void {
    this.pings.set(instance, performance.now());
  }

  private heardWithin(ms: number): string[] {
    const since = performance.now() - ms;
    const heard: string[] = [];
    for (const [instance, at] of this.pings) {
      if (at >= since) heard.push(instance);
      else this.pings.delete(instance);
    }
    return heard;
  }

  /** An ack came back to this writer. */
  received(nonce: string, instance: string): void {
    this.pending.get(nonce)?.add(instance);
  }

  /** Acknowledges a writer's invalidation, once this instance applied it. */
  async acknowledge(writer: string, nonce: string): Promise<void> {
    const ack = encodeMessage({ kind: 'ack', nonce, instance: this.instance.id });
    await this.redis.client.spublish(nearCacheAckChannel(writer), ack).catch(() => undefined);
  }
}
