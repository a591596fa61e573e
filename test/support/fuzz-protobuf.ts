/**
 * Protobuf wire encoding without a schema (https://protobuf.dev/programming-guides/encoding/), so a
 * fuzzer can write what no generated encoder would: wrong wire types, out-of-range varints,
 * lengths that lie, invalid UTF-8, groups, field 0.
 */

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** One field as it goes on the wire: its tag's parts, then the bytes that follow the tag. */
export interface WireField {
  field: number;
  /** 0-5 are protobuf's wire types; 6 and 7 are invalid. */
  wire: number;
  payload: Uint8Array;
}

/** A message as fields, then `cut` bytes dropped from its end and `junk` appended. */
export interface WireMessage {
  fields: WireField[];
  cut: number;
  junk: Uint8Array;
}

/** Base-128 varint of the value's low 64 bits; `padding` > 0 gives an overlong encoding. */
export function varint(value: bigint, padding = 0): Uint8Array {
  let rest = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  if (padding === 0) {
    out.push(Number(rest));
  } else {
    out.push(Number(rest) | 0x80, ...Array<number>(padding - 1).fill(0x80), 0);
  }
  return Uint8Array.from(out);
}

/** A length-delimited payload; `lengthDelta` makes the length lie. */
export function lengthDelimited(bytes: Uint8Array, lengthDelta = 0): Uint8Array {
  return concat([varint(BigInt(Math.max(0, bytes.length + lengthDelta))), bytes]);
}

export function float64(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return bytes;
}

export function encodeField({ field, wire, payload }: WireField): Uint8Array {
  return concat([varint((BigInt(field) << 3n) | BigInt(wire)), payload]);
}

export function encodeWire({ fields, cut, junk }: WireMessage): Buffer {
  const whole = concat(fields.map(encodeField));
  return Buffer.concat([whole.subarray(0, Math.max(0, whole.length - cut)), junk]);
}

/** A string field as a well-formed message would carry it. */
export function stringField(field: number, value: string): WireField {
  return { field, wire: WIRE.LEN, payload: lengthDelimited(Buffer.from(value, 'utf8')) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
