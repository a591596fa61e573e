import type { Deadline } from '@grpc/grpc-js';

/** What a grpc-js server call tells of its deadline. */
export interface DeadlineCall {
  getDeadline(): Deadline;
  /** The client cancelled the call (or its deadline passed): no one waits for the answer. */
  readonly cancelled?: boolean;
}

/** The call's deadline in ms since the epoch; Infinity when it has none. */
export function deadlineOf(call: DeadlineCall | undefined): number {
  const deadline = call?.getDeadline?.();
  if (deadline instanceof Date) return deadline.getTime();
  return typeof deadline === 'number' ? deadline : Infinity;
}

/** The call's deadline as a read sees it when it starts: -Infinity once the call is cancelled. */
export function liveDeadline(call: DeadlineCall | undefined): () => number {
  const deadline = deadlineOf(call);
  return () => (call?.cancelled ? -Infinity : deadline);
}
