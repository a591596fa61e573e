import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/** One TRUSTED_PROXIES entry: a block of addresses (one address is a /32 or /128). */
export interface TrustedProxy {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * TRUSTED_PROXIES: addresses and CIDR blocks, comma-separated (`10.0.0.2, 10.1.0.0/16, fd00::/8`).
 * A /0 is refused: every client would be trusted to name itself. Throws a message for the variable.
 */
export function parseTrustedProxies(value: string): TrustedProxy[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [address, prefixText, ...rest] = entry.split('/');
      const version = isIP(address);
      if (version === 0 || rest.length > 0)
        throw new Error(`entry "${entry}" is not an IP address or a CIDR block`);
      const family = version === 4 ? 'ipv4' : 'ipv6';
      const bits = version === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? bits : Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText ?? String(bits)) || prefix > bits)
        throw new Error(`entry "${entry}" needs a prefix from 1 to ${bits}`);
      if (prefix === 0)
        throw new Error(`entry "${entry}" trusts every address: any client could name itself`);
      // What the service will build from the entry; an address it takes there it takes here.
      try {
        new BlockList().addSubnet(address, prefix, family);
      } catch {
        throw new Error(`entry "${entry}" is not an IP address or a CIDR block`);
      }
      return { address, prefix, family };
    });
}

/** The TRUSTED_PROXIES variable: unset or empty trusts no proxy. */
export const trustedProxies = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return parseTrustedProxies(value ?? '');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
