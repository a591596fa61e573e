import { Injectable } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { randomBytes, timingSafeEqual } from 'node:crypto';

const HEADER = 'x-movie-cache-benchmark';

/**
 * Marks GetMovie calls that must not count as views (RunBenchmark's calls to its own server).
 * The token is random per process: outside calls cannot forge it.
 */
@Injectable()
export class UncountedTraffic {
  private readonly token = randomBytes(16);
  /** Until a benchmark asked for the header, no call can carry it: nothing to look up. */
  private issued = false;

  metadata(): Metadata {
    this.issued = true;
    const metadata = new Metadata();
    metadata.set(HEADER, this.token.toString('hex'));
    return metadata;
  }

  isUncounted(metadata: Metadata | undefined): boolean {
    if (!this.issued) return false;
    const value = metadata?.get(HEADER)?.[0];
    if (typeof value !== 'string') return false;
    // Hex decoding stops at the first non-hex digit: compare only buffers of the token's length.
    const given = Buffer.from(value, 'hex');
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}
