import { status } from '@grpc/grpc-js';

/** The gRPC status a call ended with: OK, or its error's code. */
export const statusOf = (call: Promise<unknown>): Promise<status> =>
  call.then(
    () => status.OK,
    (error: { code?: status }) => error.code ?? status.UNKNOWN,
  );
