import { Client, Metadata, credentials, status, type StatusObject } from '@grpc/grpc-js';

/**
 * What a fuzzed call sent as metadata: `authorization` (one value at most: grpc-js refuses to send
 * two), then any other entries.
 */
export interface FuzzMetadata {
  authorization?: string;
  extra: Array<[key: string, value: string]>;
}

/** How a call ended, as the client saw it. */
export interface CallOutcome {
  code: status;
  details: string;
  /** Trailing metadata as text (binary values in base64), to search for leaked internals. */
  trailers: string;
  /** The unary response, or the first message of a stream. */
  response?: Buffer;
  /** Messages the server sent before its status (a cancelled server stream: the first only). */
  messages: number;
}

const identity = (bytes: Buffer) => bytes;

export function toGrpcMetadata({ authorization, extra }: FuzzMetadata): Metadata {
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  for (const [key, value] of extra) {
    metadata.add(key, key.endsWith('-bin') ? Buffer.from(value) : value);
  }
  return metadata;
}

function trailerText(metadata: Metadata): string {
  return Object.entries(metadata.getMap())
    .map(([key, value]) => `${key}: ${Buffer.isBuffer(value) ? value.toString('base64') : value}`)
    .join('\n');
}

/**
 * A grpc-js client without codecs: request bytes go on the wire as given, so the server sees
 * malformed messages as they are. One channel serves every call.
 */
export class RawGrpcClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  unary(path: string, bytes: Buffer, metadata: Metadata, timeoutMs: number): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let response: Buffer | undefined;
      const call = this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        bytes,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (_error, value) => (response = value),
      );
      // grpc-js calls the callback first, then emits the status with its trailers.
      call.on('status', (s: StatusObject) =>
        resolve({
          code: s.code,
          details: s.details,
          trailers: trailerText(s.metadata),
          response,
          messages: response ? 1 : 0,
        }),
      );
    });
  }

  /** Reads a server stream's first message, then cancels it: that counts as OK. */
  firstMessage(
    path: string,
    bytes: Buffer,
    metadata: Metadata,
    timeoutMs: number,
  ): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let first: Buffer | undefined;
      const call = this.client.makeServerStreamRequest(path, identity, identity, bytes, metadata, {
        deadline: Date.now() + timeoutMs,
      });
      call.on('data', (message: Buffer) => {
        if (first) return;
        first = message;
        call.cancel();
      });
      call.on('error', () => undefined);
      call.on('status', (s: StatusObject) => {
        const cancelledByUs = first !== undefined && s.code === status.CANCELLED;
        resolve({
          code: cancelledByUs ? status.OK : s.code,
          details: cancelledByUs ? '' : s.details,
          trailers: trailerText(s.metadata),
          response: first,
          messages: first ? 1 : 0,
        });
      });
    });
  }

  /**
   * Writes one message on a bidirectional stream and half-closes it: the server answers, then ends
   * the stream with its status once it has read the end.
   */
  oneRequest(
    path: string,
    bytes: Buffer,
    metadata: Metadata,
    timeoutMs: number,
  ): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const received: Buffer[] = [];
      const call = this.client.makeBidiStreamRequest(path, identity, identity, metadata, {
        deadline: Date.now() + timeoutMs,
      });
      call.on('data', (message: Buffer) => received.push(message));
      call.on('error', () => undefined);
      call.on('status', (s: StatusObject) =>
        resolve({
          code: s.code,
          details: s.details,
          trailers: trailerText(s.metadata),
          response: received[0],
          messages: received.length,
        }),
      );
      call.end(bytes);
    });
  }

  close(): void {
    this.client.close();
  }
}
