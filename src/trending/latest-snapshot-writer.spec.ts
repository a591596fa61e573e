import { Subject, type Subscription } from 'rxjs';
import { writeLatest, type SnapshotCall } from './latest-snapshot-writer';

/** A call whose writes are sent only when the test says so (a client not reading). */
class HeldCall implements SnapshotCall<number> {
  readonly written: number[] = [];
  private readonly unsent: Array<(error?: Error | null) => void> = [];

  write(message: number, callback: (error?: Error | null) => void): boolean {
    this.written.push(message);
    this.unsent.push(callback);
    return true;
  }

  /** The oldest write reaches the client. */
  send(): void {
    this.unsent.shift()?.();
  }
}

describe(writeLatest.name, () => {
  let call: HeldCall;
  let source: Subject<number>;
  let replaced: number;
  let done: { completed: boolean; error?: unknown };
  let subscription: Subscription;

  beforeEach(() => {
    call = new HeldCall();
    source = new Subject<number>();
    replaced = 0;
    done = { completed: false };
    subscription = source.pipe(writeLatest(call, { inc: () => (replaced += 1) })).subscribe({
      complete: () => (done.completed = true),
      error: (error: unknown) => (done.error = error),
    });
  });

  it('writes at once while nothing is unsent', () => {
    source.next(1);
    call.send();
    source.next(2);

    expect(call.written).toEqual([1, 2]);
  });

  it('keeps only the latest snapshot while one is unsent, and writes it once that is sent', () => {
    source.next(1);
    source.next(2);
    source.next(3);
    source.next(4);
    expect(call.written).toEqual([1]);

    call.send();

    expect(call.written).toEqual([1, 4]);
    expect(replaced).toBe(2);
  });

  it('completes only after the pending snapshot is written and sent', () => {
    source.next(1);
    source.next(2);
    source.complete();
    expect(done.completed).toBe(false);

    call.send();
    expect(call.written).toEqual([1, 2]);
    expect(done.completed).toBe(false);
    call.send();

    expect(done.completed).toBe(true);
  });

  it('passes an error on at once, without writing the pending snapshot', () => {
    const failure = new Error('shutting down');
    source.next(1);
    source.next(2);

    source.error(failure);
    call.send();

    expect(done.error).toBe(failure);
    expect(call.written).toEqual([1]);
  });

  it('writes nothing more once unsubscribed (the client cancelled)', () => {
    source.next(1);
    source.next(2);

    subscription.unsubscribe();
    call.send();

    expect(call.written).toEqual([1]);
    expect(source.observed).toBe(false);
  });
});
