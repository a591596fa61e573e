import { loadConfig } from '../config/app-config';
import { logAdminAccess } from './admin-token.guard';

describe(logAdminAccess.name, () => {
  const logged = (env: Record<string, string>) => {
    const logger = { log: jest.fn(), warn: jest.fn() };
    logAdminAccess(logger, loadConfig(env));
    return { log: logger.log.mock.calls.flat(), warn: logger.warn.mock.calls.flat() };
  };

  it('says at boot which row of the security table applies', () => {
    expect(logged({ ADMIN_TOKEN: 'a-long-enough-admin-token-1234' })).toEqual({
      log: ['admin RPCs need the ADMIN_TOKEN bearer'],
      warn: [],
    });
    expect(logged({})).toEqual({
      log: [expect.stringMatching(/^protected mode on: .*loopback clients only$/)],
      warn: [],
    });
    expect(logged({ PROTECTED_MODE: 'off' })).toEqual({
      log: [],
      warn: [expect.stringMatching(/open to every peer/)],
    });
  });

  it('names the trusted proxies, whose x-forwarded-for names the client', () => {
    expect(logged({ TRUSTED_PROXIES: '10.0.0.2, fd00::/8' }).log).toContain(
      'TRUSTED_PROXIES: from 10.0.0.2/32, fd00::/8, x-forwarded-for names the client (per-client stream cap, protected mode)',
    );
    expect(logged({}).log).toHaveLength(1);
  });

  it('never logs the token', () => {
    const token = 'a-long-enough-admin-token-1234';
    expect(JSON.stringify(logged({ ADMIN_TOKEN: token }))).not.toContain(token);
  });
});
