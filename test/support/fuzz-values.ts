import fc from 'fast-check';
import { MAX_MESSAGE_BYTES } from '../../src/grpc/grpc-channel';
import { float64, lengthDelimited, varint, WIRE, type WireField } from './fuzz-protobuf';

// Field values that sit on or just past an edge: empty, huge, unicode, bounds, special doubles.

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const HEX = [...'0123456789abcdefABCDEF'];

const objectIdLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...HEX), minLength: 24, maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...HEX, 'g', 'z', ' '), minLength: 22, maxLength: 26 }),
);

export const edgeString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u0007',
    '\t',
    '\u007f',
    '\u202e',
    '\ufeff',
    '\ud800',
    '000000000000000000000000',
    '{"$ne": null}',
    '{"$gt": ""}',
    '.*',
    'movie:*\r\nFLUSHALL',
    '${7*7}',
    '%s%n',
  ),
  fc.constantFrom(255, 256, 257, 10_000).map((n) => 'é'.repeat(n)),
  fc.constantFrom(128, 129).map((n) => '🎬'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  objectIdLike,
);

export const edgeInt32 = fc.oneof(
  fc.constantFrom(0, 1, -1, INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1),
  // Bounds the API documents or enforces: years, windows, intervals, key spaces, request counts.
  fc.constantFrom(1849, 1850, 2200, 2201, 86_400, 86_401, 60_000, 60_001, 100_000, 100_001),
  fc.constantFrom(1_000_000, 1_000_001),
  fc.integer({ min: -2, max: 300 }),
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
);

export const edgeDouble = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    10,
    Number.NaN,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    Number.MAX_VALUE,
    10 + 2 ** -49,
    10 - 2 ** -49,
    1e-300,
  ),
  fc.double(),
  fc.double({ min: -1, max: 11 }),
);

/** Integers on and either side of each point: where an off-by-one check lets a value through. */
export const intsAround = (...points: number[]) =>
  fc.constantFrom(...points.flatMap((p) => [p - 1, p, p + 1]));

/** Doubles on, a unit in the last place either side of, and half a unit either side of each point. */
export const doublesAround = (...points: number[]) =>
  fc.constantFrom(
    ...points.flatMap((p) => {
      const ulp = p === 0 ? Number.MIN_VALUE : Math.abs(p) * Number.EPSILON;
      return [p - 0.5, p - ulp, p, p + ulp, p + 0.5];
    }),
  );

/** Printable ASCII: what gRPC metadata values may hold. */
export const headerValue = (maxLength = 64) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength,
  });

const edgeVarint = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    2n,
    -1n,
    100n,
    200n,
    201n,
    BigInt(INT32_MAX),
    BigInt(INT32_MAX) + 1n,
    BigInt(INT32_MIN),
    2n ** 32n,
    2n ** 53n,
    2n ** 53n + 2n,
    2n ** 63n,
    2n ** 64n - 1n,
  ),
  fc.bigInt({ min: -2n, max: 300n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const INVALID_UTF8 = [
  [0xc3, 0x28],
  [0xff],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0x80],
  [0xe2, 0x82],
].map((bytes) => Uint8Array.from(bytes));

/** Scalar types of the request fields, as far as the wire is concerned. */
export type Scalar = 'string' | 'varint' | 'double';

const lengthDelta = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_MESSAGE_BYTES, 2 ** 31, 2 ** 35) },
);
const padding = fc.oneof(
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) },
);

/** A payload of the field's own wire type, carrying an edge value. */
export function typedPayload(type: Scalar, strings: fc.Arbitrary<string>) {
  switch (type) {
    case 'string':
      return fc
        .tuple(
          fc.oneof(
            strings.map((s) => Buffer.from(s, 'utf8')),
            fc.constantFrom(...INVALID_UTF8),
            fc.uint8Array({ maxLength: 40 }),
          ),
          lengthDelta,
        )
        .map(([bytes, delta]) => ({ wire: WIRE.LEN, payload: lengthDelimited(bytes, delta) }));
    case 'varint':
      return fc
        .tuple(edgeVarint, padding)
        .map(([value, pad]) => ({ wire: WIRE.VARINT, payload: varint(value, pad) }));
    case 'double':
      return fc.oneof(
        edgeDouble.map((d) => ({ wire: WIRE.I64, payload: float64(d) })),
        fc
          .uint8Array({ minLength: 8, maxLength: 8 })
          .map((payload) => ({ wire: WIRE.I64, payload })),
      );
  }
}

/** Any wire type with a payload of any shape (or none): what a confused encoder might write. */
export const anyPayload: fc.Arbitrary<Omit<WireField, 'field'>> = fc.oneof(
  fc.tuple(edgeVarint, padding).map(([v, pad]) => ({ wire: WIRE.VARINT, payload: varint(v, pad) })),
  fc.uint8Array({ maxLength: 10 }).map((payload) => ({ wire: WIRE.I64, payload })),
  fc
    .tuple(fc.uint8Array({ maxLength: 40 }), lengthDelta)
    .map(([bytes, delta]) => ({ wire: WIRE.LEN, payload: lengthDelimited(bytes, delta) })),
  fc.constantFrom(WIRE.SGROUP, WIRE.EGROUP).map((wire) => ({ wire, payload: new Uint8Array() })),
  fc.uint8Array({ maxLength: 6 }).map((payload) => ({ wire: WIRE.I32, payload })),
  fc
    .tuple(fc.constantFrom(6, 7), fc.uint8Array({ maxLength: 4 }))
    .map(([wire, payload]) => ({ wire, payload })),
);

/** Field numbers outside the message: 0 (invalid), unknown ones, the largest, past the largest. */
export const unknownFieldNumber = fc.oneof(
  fc.constantFrom(0, 9, 15, 16, 19_000, 2 ** 29 - 1, 2 ** 29, 2 ** 32),
  fc.integer({ min: 1, max: 2 ** 29 - 1 }),
);
