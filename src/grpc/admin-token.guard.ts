import { CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { UnauthenticatedError } from '../common/errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** With ADMIN_TOKEN set, the call needs metadata `authorization: Bearer <token>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const metadata = context.switchToRpc().getContext<Metadata>();
    const header = metadata?.get('authorization')?.[0];
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match) {
      throw new UnauthenticatedError('missing metadata "authorization: Bearer <token>"');
    }
    // Comparing fixed-length digests keeps the comparison constant-time whatever the input length.
    if (!timingSafeEqual(digest(match[1]), this.expected)) {
      throw new UnauthenticatedError('invalid admin token');
    }
    return true;
  }
}

export const AdminOnly = () => UseGuards(AdminTokenGuard);
