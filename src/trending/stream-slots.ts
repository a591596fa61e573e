import { Inject, Injectable } from '@nestjs/common';
import { ResourceExhaustedError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

/** Releases a slot; calling it again does nothing. */
export type ReleaseSlot = () => void;

/**
 * The open StreamTrending calls of this instance, counted per peer address, within the caps
 * TRENDING_MAX_STREAMS (the instance) and TRENDING_MAX_STREAMS_PER_PEER (one address).
 */
@Injectable()
export class StreamSlots {
  private readonly byPeer = new Map<string, number>();
  private readonly max: number;
  private readonly maxPerPeer: number;
  private taken = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    ({ max: this.max, maxPerPeer: this.maxPerPeer } = config.trendingStreams);
    metrics.openTrendingStreams = () => this.taken;
  }

  /** Slots taken now: the open streams. */
  get open(): number {
    return this.taken;
  }

  /** A slot for one stream from `peer`, or RESOURCE_EXHAUSTED naming the cap that is full. */
  take(peer: string): ReleaseSlot {
    const fromPeer = this.byPeer.get(peer) ?? 0;
    // The peer's own cap first: a peer over it is told what it can fix itself.
    if (fromPeer >= this.maxPerPeer) {
      this.metrics.trendingStreamsRefused.inc({ cap: 'peer' });
      throw new ResourceExhaustedError(
        `${peer} already has ${fromPeer} StreamTrending streams open, the most TRENDING_MAX_STREAMS_PER_PEER allows; close one first`,
      );
    }
    if (this.taken >= this.max) {
      this.metrics.trendingStreamsRefused.inc({ cap: 'instance' });
      throw new ResourceExhaustedError(
        `this instance already has ${this.taken} StreamTrending streams open, the most TRENDING_MAX_STREAMS allows; retry later or on another instance`,
      );
    }
    this.taken += 1;
    this.byPeer.set(peer, fromPeer + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken -= 1;
      const left = this.byPeer.get(peer)! - 1;
      if (left === 0) this.byPeer.delete(peer);
      else this.byPeer.set(peer, left);
    };
  }
}
