import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The call object grpc-js hands a handler (Nest's third argument). */
export interface PeerCall {
  getPeer(): string;
}

/** A call's remote address without its port ("10.0.0.2", "::1"); grpc-js gives "<address>:<port>". */
export function peerAddress(call: PeerCall | undefined): string {
  const peer = call?.getPeer?.() ?? '';
  const address = peer.slice(0, peer.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return isIP(address) ? address : peer;
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
