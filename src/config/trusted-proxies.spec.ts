import { ConfigError, loadConfig } from './app-config';
import { parseTrustedProxies } from './trusted-proxies';

describe(parseTrustedProxies.name, () => {
  it('reads addresses and CIDR blocks, IPv4 and IPv6, comma-separated, blanks skipped', () => {
    const sut = parseTrustedProxies(' 10.0.0.2, 10.1.0.0/16,,fd00::/8 , ::1 ,');

    expect(sut).toEqual([
      { address: '10.0.0.2', prefix: 32, family: 'ipv4' },
      { address: '10.1.0.0', prefix: 16, family: 'ipv4' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ]);
  });

  it('trusts no proxy when empty', () => {
    expect(parseTrustedProxies('')).toEqual([]);
    expect(parseTrustedProxies(' , ')).toEqual([]);
  });

  it.each([
    ['envoy', 'entry "envoy" is not an IP address or a CIDR block'],
    ['10.0.0.256', 'is not an IP address'],
    ['10.0.0.0/8/8', 'is not an IP address'],
    ['10.0.0.0/', 'needs a prefix from 1 to 32'],
    ['10.0.0.0/33', 'needs a prefix from 1 to 32'],
    ['10.0.0.0/x', 'needs a prefix from 1 to 32'],
    ['fd00::/129', 'needs a prefix from 1 to 128'],
    ['0.0.0.0/0', 'trusts every address'],
    ['::/0', 'trusts every address'],
  ])('refuses %s', (value, message) => {
    expect(() => parseTrustedProxies(value)).toThrow(message);
  });
});

describe('TRUSTED_PROXIES at boot', () => {
  it('is empty by default', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
  });

  it('fails boot on a bad entry, naming the variable and the entry', () => {
    const env = { TRUSTED_PROXIES: '10.0.0.2, proxy.internal' };

    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      'TRUSTED_PROXIES entry "proxy.internal" is not an IP address or a CIDR block',
    );
  });
});
