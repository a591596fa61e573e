import { Observable, type OperatorFunction } from 'rxjs';

/** What the writer needs of grpc-js's server stream: a write whose callback says it was sent. */
export interface SnapshotCall<T> {
  write(message: T, callback: (error?: Error | null) => void): boolean;
}

/**
 * Writes each snapshot to the call itself, one at a time: while one is unsent (a client that does
 * not read holds it at HTTP/2 flow control), newer ones replace a single pending snapshot, written
 * once that one is sent. Emits nothing: Nest still unsubscribes on cancel and ends the call.
 */
// Not Nest's writer: it queues every value emitted while write() returns false, without bound, and
// grpc-js returns false only once 16 messages wait. Here a stalled stream holds two at most.
export function writeLatest<T>(
  call: SnapshotCall<T>,
  replaced: { inc(): void },
): OperatorFunction<T, never> {
  return (source) =>
    new Observable<never>((subscriber) => {
      let sending = false;
      let pending: { snapshot: T } | undefined;
      let completed = false;

      const write = (snapshot: T): void => {
        sending = true;
        call.write(snapshot, (error) => {
          sending = false;
          if (error || subscriber.closed) return;
          const next = pending;
          pending = undefined;
          if (next) write(next.snapshot);
          else if (completed) subscriber.complete();
        });
      };

      return source.subscribe({
        next: (snapshot) => {
          if (!sending) return write(snapshot);
          if (pending) replaced.inc();
          pending = { snapshot };
        },
        // Nest maps it to a status, sent after the snapshot in flight (the pending one is dropped).
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          completed = true;
          if (!sending) subscriber.complete();
        },
      });
    });
}
