import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { Observable, throwError } from 'rxjs';
import { DomainError } from './errors';

export interface GrpcError {
  code: status;
  message: string;
  details: string;
}

function grpcError(code: status, message: string): GrpcError {
  return { code, message, details: message };
}

/** The status an exception is answered with (see GrpcExceptionFilter). */
export function grpcStatusOf(exception: unknown): status {
  if (exception instanceof DomainError) return exception.code;
  if (exception instanceof RpcException) {
    const error = exception.getError();
    if (typeof error === 'object' && error !== null && 'code' in error)
      return (error as { code: status }).code;
  }
  return status.INTERNAL;
}

/** Maps domain errors to gRPC statuses; anything else is logged and becomes a bare INTERNAL. */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(GrpcExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    return throwError(() => this.toGrpcError(exception, host));
  }

  toGrpcError(exception: unknown, host?: ArgumentsHost): GrpcError {
    if (exception instanceof DomainError) {
      if (exception.code === status.UNAVAILABLE) {
        this.logger.warn(`${rpcPath(host)}: ${exception.message}`);
      }
      return grpcError(exception.code, exception.message);
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      if (typeof error === 'object' && error !== null && 'code' in error) {
        const { code, message } = error as { code: status; message?: string };
        return grpcError(code, message ?? status[code]);
      }
    }
    this.logger.error(
      `${rpcPath(host)} failed unexpectedly`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return grpcError(status.INTERNAL, 'internal error');
  }
}

function rpcPath(host?: ArgumentsHost): string {
  const call = host?.getArgByIndex<{ getPath?: () => string } | undefined>(2);
  return call?.getPath?.() ?? 'rpc';
}
