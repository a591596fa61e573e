import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/**
 * The near-cache channel's messages. A writer's `invalidate` (drop the movie), `title` (forget
 * which movie a title key names) or `flush` (forget everything; id `*`) is answered by an `ack`
 * from each instance; an instance hears its own `ping` to know it hears everything. `dirty`, sent
 * by versions before writes were fenced in advance, is applied as `invalidate`.
 */
export type WriteKind = 'invalidate' | 'dirty' | 'title' | 'flush';
const WRITE_KINDS: ReadonlySet<string> = new Set<WriteKind>([
  'invalidate',
  'dirty',
  'title',
  'flush',
]);

export type CoherenceMessage =
  | { kind: WriteKind; writer: string; nonce: string; id: string }
  | { kind: 'ack'; nonce: string; instance: string }
  | { kind: 'ping'; instance: string; seq: number };

/** One line of space-separated words: ids, nonces and instance ids hold no spaces. */
export function encodeMessage(message: CoherenceMessage): string {
  switch (message.kind) {
    case 'invalidate':
    case 'dirty':
    case 'title':
    case 'flush':
      return `${message.kind} ${message.writer} ${message.nonce} ${message.id}`;
    case 'ack':
      return `ack ${message.nonce} ${message.instance}`;
    case 'ping':
      return `ping ${message.instance} ${message.seq}`;
  }
}

export function decodeMessage(line: string): CoherenceMessage | null {
  const [kind, a, b, c] = line.split(' ');
  if (WRITE_KINDS.has(kind) && c) return { kind: kind as WriteKind, writer: a, nonce: b, id: c };
  if (kind === 'ack' && b) return { kind, nonce: a, instance: b };
  if (kind === 'ping' && b) return { kind, instance: a, seq: Number(b) };
  return null;
}

/** This instance on the near-cache channel. */
@Injectable()
export class CacheInstance {
  readonly id = randomBytes(8).toString('hex');
}
