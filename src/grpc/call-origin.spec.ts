import { Metadata } from '@grpc/grpc-js';
import { parseTrustedProxies } from '../config/trusted-proxies';
import { CallOrigins, ipOf } from './call-origin';

const call = (address: string) => ({
  getPeer: () => (address.includes(':') ? `[${address}]:40000` : `${address}:40000`),
});
const headers = (entries: Record<string, string | string[]> = {}) => {
  const metadata = new Metadata();
  for (const [key, values] of Object.entries(entries))
    for (const value of [values].flat()) metadata.add(key, value);
  return metadata;
};
const origins = (trusted: string) => new CallOrigins(parseTrustedProxies(trusted));

describe(CallOrigins.name, () => {
  describe('from a peer not in TRUSTED_PROXIES', () => {
    const sut = origins('10.0.0.2');

    it('takes the peer for the client, whatever it forwards', () => {
      const forged = headers({ 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' });

      expect(sut.of(call('10.9.9.9'), forged)).toEqual({ client: '10.9.9.9', local: false });
      expect(sut.of(call('10.9.9.9'), headers())).toEqual({ client: '10.9.9.9', local: false });
    });

    it('calls a loopback peer local, unless it forwards for someone (a proxy nobody declared)', () => {
      expect(sut.of(call('127.0.0.1'), headers())).toEqual({ client: '127.0.0.1', local: true });
      expect(sut.of(call('::1'), undefined)).toEqual({ client: '::1', local: true });
      for (const name of ['x-forwarded-for', 'forwarded', 'x-real-ip'])
        expect(sut.of(call('127.0.0.1'), headers({ [name]: '203.0.113.7' }))).toEqual({
          client: '127.0.0.1',
          local: false,
        });
    });
  });

  describe('from a trusted proxy', () => {
    const sut = origins('10.0.0.2, 10.1.0.0/16, 127.0.0.1');
    const via = (peer: string, forwardedFor?: string | string[]) =>
      sut.of(
        call(peer),
        headers(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
      );

    it('takes the right-most address that is not itself a trusted proxy', () => {
      expect(via('10.0.0.2', '203.0.113.7').client).toBe('203.0.113.7');
      // What stands left of the proxy's own entry is the client's say: never believed.
      expect(via('10.0.0.2', '127.0.0.1, 198.51.100.1, 203.0.113.7').client).toBe('203.0.113.7');
      // A chain of trusted proxies: each vouches for the one before.
      expect(via('10.0.0.2', '198.51.100.1, 203.0.113.7, 10.1.4.4').client).toBe('203.0.113.7');
    });

    it('reads repeated headers as one list, in order', () => {
      expect(via('10.0.0.2', ['198.51.100.1', '203.0.113.7, 10.1.4.4']).client).toBe('203.0.113.7');
    });

    it('stops at an entry that is not an address: the hop that wrote it is the client', () => {
      expect(via('10.0.0.2', '203.0.113.7, unknown').client).toBe('10.0.0.2');
      expect(via('10.0.0.2', 'garbage, 10.1.4.4').client).toBe('10.1.4.4');
      expect(via('10.0.0.2', ' ').client).toBe('10.0.0.2');
    });

    it('without a forwarded address, or through trusted hops only, ends at a proxy', () => {
      expect(via('10.0.0.2')).toEqual({ client: '10.0.0.2', local: false });
      expect(via('10.0.0.2', '10.1.4.4')).toEqual({ client: '10.1.4.4', local: false });
    });

    it('judges protected mode by the forwarded client, not by the proxy on loopback', () => {
      expect(via('127.0.0.1', '203.0.113.7')).toEqual({ client: '203.0.113.7', local: false });
      expect(via('127.0.0.1', '127.0.0.1, 203.0.113.7').local).toBe(false);
      expect(via('10.0.0.2', '203.0.113.7, ::1')).toEqual({ client: '::1', local: true });
      expect(via('10.0.0.2', '127.0.0.5').local).toBe(true);
    });

    it('never calls a proxy address local: a proxy that forwarded no client, or a caller at its address', () => {
      expect(via('127.0.0.1')).toEqual({ client: '127.0.0.1', local: false });
      expect(via('127.0.0.1', '127.0.0.1')).toEqual({ client: '127.0.0.1', local: false });
    });

    it('trusts IPv4 proxies seen as IPv4-mapped IPv6 peers (a server bound to ::)', () => {
      expect(via('::ffff:10.0.0.2', '203.0.113.7').client).toBe('203.0.113.7');
    });

    it('ignores x-real-ip and forwarded: the proxy may have passed them on from the client', () => {
      const forged = headers({ 'x-real-ip': '198.51.100.9', forwarded: 'for=198.51.100.9' });

      expect(sut.of(call('10.0.0.2'), forged).client).toBe('10.0.0.2');
    });
  });
});

describe(ipOf.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['203.0.113.7:5050', '203.0.113.7'],
    ['2001:DB8:0::1', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
  ])('reads %j as %s', (entry, address) => {
    expect(ipOf(entry)).toBe(address);
  });

  it.each(['', 'unknown', '_hidden', '203.0.113', '203.0.113.7.1', 'for=203.0.113.7', '[::1'])(
    'reads %j as no address',
    (entry) => {
      expect(ipOf(entry)).toBeUndefined();
    },
  );
});
