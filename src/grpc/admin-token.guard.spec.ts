import { Metadata, status } from '@grpc/grpc-js';
import type { ExecutionContext } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { AdminTokenGuard } from './admin-token.guard';

/** An admin call from `peer` (grpc-js's "<address>:<port>") forwarded for `forwardedFor`. */
const adminCall = (peer: string, forwardedFor?: string) => {
  const metadata = new Metadata();
  if (forwardedFor) metadata.set('x-forwarded-for', forwardedFor);
  const args = [{}, metadata, { getPeer: () => peer }];
  return {
    getArgByIndex: (index: number) => args[index],
    switchToRpc: () => ({ getData: () => args[0], getContext: () => metadata }),
  } as unknown as ExecutionContext;
};
const denied = expect.objectContaining({ code: status.PERMISSION_DENIED });

describe(AdminTokenGuard.name, () => {
  it('in protected mode, judges the client a trusted proxy on loopback forwards for, not the proxy', () => {
    const sut = new AdminTokenGuard(loadConfig({ TRUSTED_PROXIES: '127.0.0.1' }));

    expect(() => sut.canActivate(adminCall('127.0.0.1:40000', '203.0.113.7'))).toThrow(denied);
    expect(() => sut.canActivate(adminCall('127.0.0.1:40000'))).toThrow(denied);
    expect(sut.canActivate(adminCall('127.0.0.1:40000', '127.0.0.2'))).toBe(true);
  });

  it('in protected mode, serves a loopback peer that is no proxy, and refuses one that forwards', () => {
    const sut = new AdminTokenGuard(loadConfig({}));

    expect(sut.canActivate(adminCall('127.0.0.1:40000'))).toBe(true);
    expect(() => sut.canActivate(adminCall('127.0.0.1:40000', '203.0.113.7'))).toThrow(denied);
    expect(() => sut.canActivate(adminCall('10.233.0.2:40000', '127.0.0.1'))).toThrow(denied);
  });
});
