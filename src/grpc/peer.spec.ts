import { isLoopback, peerAddress } from './peer';

const call = (peer: string) => ({ getPeer: () => peer });

describe('peer', () => {
  it.each([
    ['127.0.0.1:5000', '127.0.0.1'],
    ['::1:5000', '::1'],
    ['[::1]:5000', '::1'],
    ['::ffff:10.233.1.2:40000', '::ffff:10.233.1.2'],
    ['10.233.1.2:40000', '10.233.1.2'],
  ])('peerAddress(%s) is %s', (peer, address) => {
    expect(peerAddress(call(peer))).toBe(address);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.12.0.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.233.1.2', false],
    ['::ffff:10.233.1.2', false],
    ['fe80::1', false],
    ['', false],
    ['unix:/tmp/socket', false],
  ])('isLoopback(%s) is %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});
