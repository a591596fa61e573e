import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/**
 * The near-cache channel's messages. A writer's `invalidate` (drop the movie) or `dirty` (also
 * read it from MongoDB until repaired) is answered by an `ack` from each instance; an instance
 * hears its own `ping` to know it hears everything.
 */
export type CoherenceMessage =
  | { kind: 'invalidate' | 'dirty'; writer: string; nonce: string; id: string }
  | { kind: 'ack'; nonce: string; instance: string }
  | { kind: 'ping'; instance: string; seq: number };

/** One line of space-separated words: ids, nonces and instance ids hold no spaces. */
export function encodeMessage(message: CoherenceMessage): string {
  switch (message.kind) {
    case 'invalidate':
    case 'dirty':
      return `${message.kind} ${message.writer} ${message.nonce} ${message.id}`;
    case 'ack':
      return `ack ${message.nonce} ${message.instance}`;
    case 'ping':
      return `ping ${message.instance} ${message.seq}`;
  }
}

export function decodeMessage(line: string): CoherenceMessage | null {
  const [kind, a, b, c] = line.split(' ');
  if ((kind === 'invalidate' || kind === 'dirty') && c) return { kind, writer: a, nonce: b, id: c };
  if (kind === 'ack' && b) return { kind, nonce: a, instance: b };
  if (kind === 'ping' && b) return { kind, instance: a, seq: Number(b) };
  return null;
}

/** This instance on the near-cache channel. */
@Injectable()
export class CacheInstance {
  readonly id = randomBytes(8).toString('hex');
}
