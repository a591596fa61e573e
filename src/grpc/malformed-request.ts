import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

const MALFORMED = Symbol('malformed request');

/** What a request that could not be decoded turns into (grpc-js would answer INTERNAL). */
const MALFORMED_REQUEST = Object.freeze({ [MALFORMED]: true });

/**
 * Makes every request deserializer of the definition total: bytes that are not a valid message
 * become MALFORMED_REQUEST, which the RPC observer answers with INVALID_ARGUMENT.
 */
export function tolerateMalformedRequests(definition: PackageDefinition): void {
  for (const entry of Object.values(definition)) {
    for (const method of Object.values(entry as Record<string, { requestDeserialize?: unknown }>)) {
      const decode = method?.requestDeserialize;
      if (typeof decode !== 'function') continue;
      method.requestDeserialize = (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return MALFORMED_REQUEST;
        }
      };
    }
  }
}

/** Every service added to the server from now on (health and reflection too) gets total deserializers. */
export function tolerateMalformedRequestsOf(server: Server): void {
  const addService = server.addService.bind(server);
  server.addService = (service, implementation) => {
    tolerateMalformedRequests({ service } as unknown as PackageDefinition);
    addService(service, implementation);
  };
}

export const isMalformedRequest = (message: unknown): boolean =>
  (message as Record<symbol, unknown> | undefined)?.[MALFORMED] === true;
