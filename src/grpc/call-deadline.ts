import type { Deadline } from '@grpc/grpc-js';

/** What a grpc-js server call tells of its deadline. */
export interface DeadlineCall {
  getDeadline(): Deadline;
}

/** The call's deadline in ms since the epoch; Infinity when it has none. */
export function deadlineOf(call: DeadlineCall | undefined): number {
  const deadline = call?.getDeadline?.();
  if (deadline instanceof Date) return deadline.getTime();
  return typeof deadline === 'number' ? deadline : Infinity;
}
