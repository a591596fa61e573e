import { Injectable } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { randomBytes, timingSafeEqual } from 'node:crypto';

const HEADER = 'x-movie-cache-benchmark';

/**
 * Marks the GetMovie calls RunBenchmark makes to its own server, so they do not count as views
 * in the live trending leaderboard. The token is random per process: outside calls cannot forge it.
 */
@Injectable()
export class BenchmarkTraffic {
  private readonly token = randomBytes(16);

  metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set(HEADER, this.token.toString('hex'));
    return metadata;
  }

  isBenchmark(metadata: Metadata | undefined): boolean {
    const value = metadata?.get(HEADER)?.[0];
    if (typeof value !== 'string' || value.length !== this.token.length * 2) return false;
    return timingSafeEqual(Buffer.from(value, 'hex'), this.token);
  }
}
