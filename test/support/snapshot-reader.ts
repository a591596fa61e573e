import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';

/** Collects a server stream's messages so a test can wait for one that matches. */
export class SnapshotReader<T> {
  readonly messages: T[] = [];
  error?: ServiceError;
  ended = false;
  private waiters: Array<() => void> = [];

  constructor(readonly stream: ClientReadableStream<T>) {
    stream.on('data', (message: T) => {
      this.messages.push(message);
      this.wake();
    });
    stream.on('error', (error: ServiceError) => {
      this.error = error;
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** The first message (at or after index `from`) that satisfies the predicate. */
  async waitFor(predicate: (message: T) => boolean, timeoutMs = 5_000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the stream's final error (or undefined if it ended cleanly). */
  async closed(timeoutMs = 5_000): Promise<ServiceError | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error && !this.ended) {
      if (Date.now() > deadline) throw new Error('stream still open');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.error;
  }

  cancel(): void {
    this.stream.cancel();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}
