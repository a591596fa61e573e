import fc from 'fast-check';
import type { FuzzMetadata } from './fuzz-client';
import { headerValue } from './fuzz-values';

/** Authorization right, wrong, nearly right, random or missing; other entries beside it. */
export function fuzzMetadata(token: string): fc.Arbitrary<FuzzMetadata> {
  const right = `Bearer ${token}`;
  // At most 4 of these stay under the HTTP/2 layer's ~64 KiB of headers: above it the stream is
  // reset before grpc-js sees the call (the client reports INTERNAL "Received RST_STREAM with code 9").
  const large = fc.constantFrom(4_096, 8_192, 12_000).map((n) => 'v'.repeat(n));
  const authValue = fc.oneof(
    { weight: 10, arbitrary: fc.constant(right) },
    fc.constantFrom(
      `bearer ${token}`,
      token,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer  ${token}`,
      `Bearer ${token.toUpperCase()}`,
      `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
      'Bearer',
      'Bearer x',
    ),
    headerValue(),
    headerValue().map((v) => `Bearer ${v}`),
    large.map((v) => `Bearer ${v}`),
  );
  const key = fc.oneof(
    fc.constantFrom('x-movie-cache-benchmark', 'x-request-id', 'trace-bin', 'x-admin-token'),
    fc
      .string({
        unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.'),
        minLength: 1,
        maxLength: 20,
      })
      .filter((k) => !k.startsWith('grpc-') && k !== 'authorization'),
  );
  const value = fc.oneof(
    headerValue(),
    large,
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefgz'), minLength: 32, maxLength: 32 }),
  );
  return fc.record({
    authorization: fc.option(authValue, { nil: undefined, freq: 4 }),
    extra: fc.oneof(
      { weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) },
      fc.array(fc.tuple(key, value), { maxLength: 3 }),
    ),
  });
}
