import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  UseGuards,
  type Logger,
} from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { PermissionDeniedError, UnauthenticatedError } from '../common/errors';
import { CallOrigins } from './call-origin';
import type { PeerCall } from './peer';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * With ADMIN_TOKEN set, the call needs metadata `authorization: Bearer <token>`. Without one, in
 * protected mode (the default, after Redis's), only loopback clients may call: the peer, or
 * through a proxy in TRUSTED_PROXIES the client it forwards for (call-origin.ts).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;
  private readonly protectedMode: boolean;
  private readonly origins: CallOrigins;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : undefined;
    this.protectedMode = config.protectedMode;
    this.origins = new CallOrigins(config.trustedProxies);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return this.fromLoopback(context);
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

  private fromLoopback(context: ExecutionContext): boolean {
    if (!this.protectedMode) return true;
    const call = context.getArgByIndex<PeerCall | undefined>(2);
    const metadata = context.switchToRpc().getContext<Metadata | undefined>();
    if (this.origins.of(call, metadata).local) return true;
    throw new PermissionDeniedError(
      `admin RPCs are served to loopback clients only while no ADMIN_TOKEN is set (protected mode); set ADMIN_TOKEN and send "authorization: Bearer <token>", or PROTECTED_MODE=off`,
    );
  }
}

export const AdminOnly = () => UseGuards(AdminTokenGuard);

/** Logs at boot who may call admin RPCs: a warning when anyone may. */
export function logAdminAccess(logger: Pick<Logger, 'log' | 'warn'>, config: AppConfig): void {
  if (config.adminToken) logger.log('admin RPCs need the ADMIN_TOKEN bearer');
  else if (config.protectedMode)
    logger.log(
      'protected mode on: no ADMIN_TOKEN, so admin RPCs (UpdateRating, RunBenchmark) are served to loopback clients only',
    );
  else logger.warn('PROTECTED_MODE=off and no ADMIN_TOKEN: admin RPCs are open to every peer');
  if (config.trustedProxies.length > 0) {
    const proxies = config.trustedProxies.map(({ address, prefix }) => `${address}/${prefix}`);
    logger.log(
      `TRUSTED_PROXIES: from ${proxies.join(', ')}, x-forwarded-for names the client (per-client stream cap, protected mode)`,
    );
  }
}
