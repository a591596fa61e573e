import { status } from '@grpc/grpc-js';
import { CancelledError } from '../../common/errors';
import { NO_DEADLINE, type ReadDeadline } from './movie-source';
import type { ReadOutcome, Tick } from './read-outcome';

interface Flight<T> {
  outcome: Promise<T>;
  /** The deadlines of the requests it serves: it reads within the latest of them. */
  deadlines: ReadDeadline[];
}

const expired = (error: unknown) =>
  error instanceof CancelledError && error.code === status.DEADLINE_EXCEEDED;

/**
 * One miss per key in this process. A request joins a running miss, but takes its answer only
 * if that answer is fresh as of the request's arrival; otherwise (null) it reads again. A joiner
 * extends the miss's deadline, and reads again if the miss ran out of an earlier caller's. Once
 * every caller is cancelled, the miss's deadline has passed: its MongoDB read is not started.
 */
export class SingleFlight<T extends ReadOutcome = ReadOutcome> {
  private readonly running = new Map<string, Flight<T>>();

  async run(
    key: string,
    arrivedAt: Tick,
    lead: (deadline: ReadDeadline) => Promise<T>,
    deadline: ReadDeadline = NO_DEADLINE,
  ): Promise<T | null> {
    const joined = this.running.get(key);
    if (!joined) {
      const flight = { deadlines: [deadline] } as Flight<T>;
      const latest = () => Math.max(...flight.deadlines.map((d) => d()));
      flight.outcome = lead(latest).finally(() => this.running.delete(key));
      this.running.set(key, flight);
      return flight.outcome;
    }
    joined.deadlines.push(deadline);
    let outcome: T;
    try {
      outcome = await joined.outcome;
    } catch (error) {
      if (expired(error) && deadline() > Date.now()) return null;
      throw error;
    }
    // A miss started after `joined` ended, so after this arrival: reading again joins or runs one.
    return outcome.freshAt > arrivedAt ? outcome : null;
  }
}
