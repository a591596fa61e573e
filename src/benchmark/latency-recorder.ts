import { createRequire } from 'node:module';
import type { LatencyStats } from '../generated/nest/movies/v1/movie_service';

type Hdr = typeof import('hdr-histogram-js');
let hdr: Hdr | undefined;
/** Loaded by the first benchmark, not at start: with its WebAssembly build it is ~1 MB of heap. */
const loadHdr = (): Hdr => (hdr ??= createRequire(__filename)('hdr-histogram-js') as Hdr);

/** Latencies in an HDR histogram (microsecond resolution, 3 significant digits, up to 10 min). */
export class LatencyRecorder {
  private readonly histogram = loadHdr().build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  stats(): LatencyStats {
    const h = this.histogram;
    const ms = (us: number) => Math.round(us) / 1000;
    if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
    return {
      count: h.totalCount,
      meanMs: ms(h.mean),
      p50Ms: ms(h.getValueAtPercentile(50)),
      p95Ms: ms(h.getValueAtPercentile(95)),
      p99Ms: ms(h.getValueAtPercentile(99)),
      maxMs: ms(h.maxValue),
    };
  }
}
