import type { ReadOutcome, Tick } from './read-outcome';

/**
 * One miss per key in this process. A request joins a running miss, but takes its answer only
 * if that answer is fresh as of the request's arrival; otherwise (null) it reads again.
 */
export class SingleFlight<T extends ReadOutcome = ReadOutcome> {
  private readonly running = new Map<string, Promise<T>>();

  async run(key: string, arrivedAt: Tick, lead: () => Promise<T>): Promise<T | null> {
    const joined = this.running.get(key);
    if (!joined) {
      const flight = lead().finally(() => this.running.delete(key));
      this.running.set(key, flight);
      return flight;
    }
    const outcome = await joined;
    // A miss started after `joined` ended, so after this arrival: reading again joins or runs one.
    return outcome.freshAt > arrivedAt ? outcome : null;
  }
}
