import { status } from '@grpc/grpc-js';

/** A failure the client can act on; the exception filter maps it to its gRPC status. */
export abstract class DomainError extends Error {
  abstract readonly code: status;
}

export class InvalidArgumentError extends DomainError {
  readonly code = status.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

export class MovieNotFoundError extends DomainError {
  readonly code = status.NOT_FOUND;
  constructor(what: string) {
    super(`no movie with ${what}`);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = status.UNAUTHENTICATED;
}

export class PermissionDeniedError extends DomainError {
  readonly code = status.PERMISSION_DENIED;
}

export class DependencyUnavailableError extends DomainError {
  readonly code = status.UNAVAILABLE;
  constructor(
    readonly dependency: 'MongoDB' | 'Redis',
    readonly reason?: unknown,
  ) {
    super(`${dependency} is unavailable, try again shortly`);
  }
}

const isDown = (dependency: 'MongoDB' | 'Redis') => (error: unknown) =>
  error instanceof DependencyUnavailableError && error.dependency === dependency;
export const isRedisDown = isDown('Redis');
export const isMongoDown = isDown('MongoDB');

/** An UpdateRating refused before it reached MongoDB: nothing was written. */
export class WriteNotSavedError extends DomainError {
  readonly code = status.UNAVAILABLE;
  constructor(reason: string) {
    super(`the rating was not saved: ${reason}; try again shortly`);
  }
}

export class ServerShuttingDownError extends DomainError {
  readonly code = status.UNAVAILABLE;
  constructor() {
    super('server is shutting down, reconnect to another instance');
  }
}

export class ResourceExhaustedError extends DomainError {
  readonly code = status.RESOURCE_EXHAUSTED;
}

export class FailedPreconditionError extends DomainError {
  readonly code = status.FAILED_PRECONDITION;
}

export class CancelledError extends DomainError {
  constructor(readonly code: status.CANCELLED | status.DEADLINE_EXCEEDED) {
    super(code === status.CANCELLED ? 'cancelled by the client' : 'deadline exceeded');
  }
}
