import { Inject, Injectable } from '@nestjs/common';
import { ResourceExhaustedError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

/** Releases a slot; calling it again does nothing. */
export type ReleaseSlot = () => void;

/**
 * The open StreamTrending calls of this instance, counted per client address (the peer's, or the
 * one a trusted proxy forwards for), within the caps TRENDING_MAX_STREAMS (the instance) and
 * TRENDING_MAX_STREAMS_PER_PEER (one address).
 */
@Injectable()
export class StreamSlots {
  private readonly byClient = new Map<string, number>();
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

  /** A slot for one stream from `client`, or RESOURCE_EXHAUSTED naming the cap that is full. */
  take(client: string): ReleaseSlot {
    const fromClient = this.byClient.get(client) ?? 0;
    // The client's own cap first: a client over it is told what it can fix itself.
    if (fromClient >= this.maxPerPeer) {
      this.metrics.trendingStreamsRefused.inc({ cap: 'peer' });
      throw new ResourceExhaustedError(
        `${client} already has ${fromClient} StreamTrending streams open, the most TRENDING_MAX_STREAMS_PER_PEER allows; close one first`,
      );
    }
    if (this.taken >= this.max) {
      this.metrics.trendingStreamsRefused.inc({ cap: 'instance' });
      throw new ResourceExhaustedError(
        `this instance already has ${this.taken} StreamTrending streams open, the most TRENDING_MAX_STREAMS allows; retry later or on another instance`,
      );
    }
    this.taken += 1;
    this.byClient.set(client, fromClient + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken -= 1;
      const left = this.byClient.get(client)! - 1;
      if (left === 0) this.byClient.delete(client);
      else this.byClient.set(client, left);
    };
  }
}
