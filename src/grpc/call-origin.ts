import type { Metadata } from '@grpc/grpc-js';
import { BlockList, SocketAddress, isIP } from 'node:net';
import type { TrustedProxy } from '../config/trusted-proxies';
import { isLoopback, peerAddress, type PeerCall } from './peer';

/** Headers by which a proxy says whom it forwards for. Only x-forwarded-for is ever believed. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** Where a call comes from, as far as the service can tell. */
export interface CallOrigin {
  /** The client's address: the peer's, or from a trusted proxy the client it forwards for. */
  client: string;
  /** Protected mode may serve it: the client is on loopback and known to be the client. */
  local: boolean;
}

/**
 * Tells a call's client from its peer and, when the peer is in TRUSTED_PROXIES, its
 * x-forwarded-for (docs/guarantees.md#security says why only that header, and how).
 */
export class CallOrigins {
  private readonly trusted = new BlockList();

  constructor(proxies: readonly TrustedProxy[]) {
    for (const { address, prefix, family } of proxies)
      this.trusted.addSubnet(address, prefix, family);
  }

  of(call: PeerCall | undefined, metadata: Metadata | undefined): CallOrigin {
    const peer = peerAddress(call);
    if (!this.isTrusted(peer)) {
      // A loopback peer forwarding for someone is a proxy nobody declared: its client is unknown.
      const forwards = FORWARDING_HEADERS.some((name) => metadata?.get(name).length);
      return { client: peer, local: isLoopback(peer) && !forwards };
    }
    const client = this.forwardedClient(peer, forwardedFor(metadata));
    // Ending on a proxy's address: a proxy that forwarded no client, or a caller at a proxy's
    // address; either way not a client known to be local.
    return { client, local: isLoopback(client) && !this.isTrusted(client) };
  }

  /**
   * From the right, each trusted hop vouches for the address before it; the first address not
   * trusted is the client. An entry that is not an address ends the walk at the hop that wrote it;
   * a walk through trusted hops only ends at the left-most.
   */
  private forwardedClient(peer: string, hops: string[]): string {
    let client = peer;
    for (let i = hops.length - 1; i >= 0 && this.isTrusted(client); i -= 1) {
      const hop = ipOf(hops[i]);
      if (!hop) break;
      client = hop;
    }
    return client;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Every x-forwarded-for entry, in order (repeated headers read as one list, as HTTP says). */
function forwardedFor(metadata: Metadata | undefined): string[] {
  return (metadata?.get('x-forwarded-for') ?? []).flatMap((value) =>
    typeof value === 'string' ? value.split(',') : [],
  );
}

/**
 * An x-forwarded-for entry as one address per host: `[v6]:port` and `v4:port` lose the port,
 * `::ffff:v4` becomes `v4`, IPv6 is written the one way Node writes it. Anything else: undefined.
 */
export function ipOf(entry: string): string | undefined {
  const text = entry.trim();
  const address =
    /^\[([^\]]+)\](?::\d+)?$/.exec(text)?.[1] ?? /^([\d.]+):\d+$/.exec(text)?.[1] ?? text;
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return undefined;
  const canonical = new SocketAddress({ address, family: 'ipv6' }).address;
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical)?.[1] ?? canonical;
}
