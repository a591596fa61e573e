import type { PackageDefinition } from '@grpc/proto-loader';

type Serialize = (value: unknown) => Buffer;

/** A response carrying its own encoding (a Redis hit: the copy's bytes, framed): sent as it is. */
export const ENCODED_RESPONSE = Symbol('encoded response');

/** True if the value and everything it holds is frozen: its encoding can never change. */
function deeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(deeplyFrozen);
}

/**
 * Makes every response serializer of the definition encode a deeply frozen response once: a
 * near-cache hit answers with the same frozen object for as long as its copy is kept, so its bytes
 * are reused (grpc-js copies them into each frame). A response that carries its encoding is sent
 * as it is. Other responses are encoded as before.
 */
export function encodeFrozenResponsesOnce(definition: PackageDefinition): void {
  for (const entry of Object.values(definition)) {
    for (const method of Object.values(entry as Record<string, { responseSerialize?: unknown }>)) {
      const encode = method?.responseSerialize as Serialize | undefined;
      if (typeof encode !== 'function') continue;
      const encoded = new WeakMap<object, Buffer>();
      method.responseSerialize = (value: unknown) => {
        if (typeof value !== 'object' || value === null) return encode(value);
        const own = (value as { [ENCODED_RESPONSE]?: Buffer })[ENCODED_RESPONSE];
        if (own) return own;
        if (!Object.isFrozen(value)) return encode(value);
        let bytes = encoded.get(value);
        if (bytes) return bytes;
        bytes = encode(value);
        if (deeplyFrozen(value)) encoded.set(value, bytes);
        return bytes;
      };
    }
  }
}
