import { status } from '@grpc/grpc-js';
import { BulkheadRejectedError, bulkhead } from 'cockatiel';
import type { AppConfig } from '../config/app-config';
import { CancelledError, DependencyUnavailableError } from '../common/errors';
import type { MetricsService } from '../metrics/metrics.service';
import type { ReadDeadline } from './cache/movie-source';

const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoExpiredSessionError',
]);
const MAX_TIME_EXPIRED = 50;

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_ERRORS.has(error.name)) return true;
  if ((error as { code?: unknown }).code === MAX_TIME_EXPIRED) return true;
  // bufferCommands=false before the first connection succeeded.
  return error.name === 'MongooseError' && /initial connection/.test(error.message);
}

const deadlineExceeded = () => new CancelledError(status.DEADLINE_EXCEEDED);

/**
 * How each MongoDB call of the repository runs: timed by operation and outcome, its failure told
 * apart (MongoDB unreachable, the caller's deadline, anything else), and the cache's reads bounded.
 */
export class MongoCalls {
  /**
   * Reads in flight are bounded, and a queued read whose callers' deadline passed is dropped
   * before it is sent: a MongoDB that stalls does not get every abandoned read when it resumes.
   */
  private readonly reads: ReturnType<typeof bulkhead>;
  private lastFailedUnavailable = false;

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: Pick<AppConfig, 'mongoTimeoutMs' | 'mongoMaxReads'>,
  ) {
    this.reads = bulkhead(config.mongoMaxReads, 100 * config.mongoMaxReads);
  }

  /** The last call failed because MongoDB was unreachable (and none has succeeded since). */
  get unavailable(): boolean {
    return this.lastFailedUnavailable;
  }

  /** A read by the cache: started only within its deadline, and given no more time than is left. */
  async read<T>(
    operation: string,
    deadline: ReadDeadline,
    query: (maxTimeMS: number) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.reads.execute(() => {
        const left = Math.floor(deadline() - Date.now());
        if (left <= 0) throw deadlineExceeded();
        const maxTimeMS = Math.min(this.config.mongoTimeoutMs, left);
        return this.run(operation, () => query(maxTimeMS), maxTimeMS < this.config.mongoTimeoutMs);
      });
    } catch (error) {
      if (error instanceof BulkheadRejectedError) throw new DependencyUnavailableError('MongoDB');
      throw error;
    }
  }

  /** `byDeadline`: its time limit is the caller's deadline, so running out of it is not an outage. */
  async run<T>(operation: string, query: () => Promise<T>, byDeadline = false): Promise<T> {
    const end = this.metrics.mongoQueries.startTimer({ operation });
    try {
      const result = await query();
      end({ outcome: 'ok' });
      this.lastFailedUnavailable = false;
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      if (byDeadline && (error as { code?: unknown } | undefined)?.code === MAX_TIME_EXPIRED)
        throw deadlineExceeded();
      if (!isUnavailable(error)) throw error;
      this.lastFailedUnavailable = true;
      throw new DependencyUnavailableError('MongoDB', error);
    }
  }
}
