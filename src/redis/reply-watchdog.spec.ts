import type Redis from 'ioredis';
import { watchReplies } from './reply-watchdog';

const TIMEOUT_MS = 200;

/** A connection's queue of commands awaiting replies, as ioredis keeps it. */
function connection() {
  const items: Array<{ command: { isSettled: boolean; reject: jest.Mock } }> = [];
  const commandQueue = {
    get length() {
      return items.length;
    },
    peekAt: (i: number) => items[i],
  };
  const send = () => {
    // As ioredis's: a command failed (or answered) is settled.
    const command = {
      isSettled: false,
      reject: jest.fn(() => void (command.isSettled = true)),
    };
    items.push({ command });
    return command;
  };
  return { sent: { commandQueue } as unknown as Pick<Redis, 'commandQueue'>, send };
}

/** Ms from now until `command` was failed (advancing fake time 1 ms at a time), up to `limit`. */
function msUntilFailed(command: { reject: jest.Mock }, limit = 10 * TIMEOUT_MS): number {
  for (let ms = 0; ms <= limit; ms += 1) {
    if (command.reject.mock.calls.length > 0) return ms;
    jest.advanceTimersByTime(1);
  }
  return Infinity;
}

describe(watchReplies.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([0, 1, 25, 49])(
    'fails a command sent %i ms into a check interval between 1 and 1.25 × the timeout after it was sent',
    (offset) => {
      const { sent, send } = connection();
      const stop = watchReplies(sent, TIMEOUT_MS);
      jest.advanceTimersByTime(offset);

      const command = send();
      const failedAfter = msUntilFailed(command);

      expect(failedAfter).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(failedAfter).toBeLessThanOrEqual(TIMEOUT_MS * 1.25);
      expect(command.reject).toHaveBeenCalledTimes(1);
      expect(command.reject).toHaveBeenCalledWith(new Error('Command timed out'));
      stop();
    },
  );

  it('leaves a command whose reply came alone, failing the late one beside it', () => {
    const { sent, send } = connection();
    const stop = watchReplies(sent, TIMEOUT_MS);
    const answered = send();
    answered.isSettled = true;
    const late = send();

    expect(msUntilFailed(answered)).toBe(Infinity);
    expect(late.reject).toHaveBeenCalledTimes(1);
    stop();
  });

  it('checks nothing once stopped', () => {
    const { sent, send } = connection();
    const stop = watchReplies(sent, TIMEOUT_MS);
    const pending = send();

    stop();

    expect(msUntilFailed(pending)).toBe(Infinity);
  });
});
