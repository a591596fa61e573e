import fc from 'fast-check';
import { REFLECTED, UNKNOWN_NAMES } from './fuzz-streams';
import { edgeInt32, edgeString } from './fuzz-values';

export type Request = Record<string, unknown>;
export interface RequestArbitraries {
  /** Only valid values: the call must succeed. */
  valid: fc.Arbitrary<Request>;
  /** A valid request but for one field. */
  oneOff: fc.Arbitrary<Request>;
  /** Each field valid, on an edge, or absent. */
  any: fc.Arbitrary<Request>;
}

/** A field of a record with optional keys: absent, valid, or on an edge. */
export const either = <T>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<T>) => fc.oneof(valid, edge);

/**
 * Reflection requests: list_services, or a real symbol or file (valid); one request of any kind
 * naming something unknown, near a real name, or an edge string; or several (the last one counts).
 */
export function reflectionRequests(): RequestArbitraries {
  const host = fc.option(either(fc.constantFrom('', 'localhost'), edgeString), {
    nil: undefined,
    freq: 2,
  });
  const unknown = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...UNKNOWN_NAMES) }, edgeString);
  const symbol = fc.constantFrom(...REFLECTED.symbols);
  const file = fc.constantFrom(...REFLECTED.files);
  const type = fc.oneof(fc.constantFrom(...REFLECTED.messageTypes), unknown);
  const valid = fc.oneof(
    fc.constantFrom('*', '').map((listServices) => ({ listServices })),
    symbol.map((fileContainingSymbol) => ({ fileContainingSymbol })),
    file.map((fileByFilename) => ({ fileByFilename })),
  );
  const kinds = {
    fileByFilename: either(file, unknown),
    fileContainingSymbol: either(symbol, unknown),
    fileContainingExtension: fc.record(
      {
        containingType: type,
        extensionNumber: either(fc.integer({ min: 1, max: 536 }), edgeInt32),
      },
      { requiredKeys: [] },
    ),
    allExtensionNumbersOfType: type,
    listServices: edgeString,
  };
  const withHost = (requests: fc.Arbitrary<Request>) =>
    fc
      .tuple(requests, host)
      .map(([request, h]) => (h === undefined ? request : { ...request, host: h }));
  const single = fc.oneof(
    ...Object.entries(kinds).map(([key, value]) => value.map((v) => ({ [key]: v }) as Request)),
  );
  return {
    valid,
    oneOff: withHost(
      fc.oneof(
        { weight: 3, arbitrary: unknown.map((fileContainingSymbol) => ({ fileContainingSymbol })) },
        { weight: 2, arbitrary: unknown.map((fileByFilename) => ({ fileByFilename })) },
        { weight: 4, arbitrary: single },
      ),
    ),
    any: withHost(fc.record(kinds, { requiredKeys: [] })),
  };
}
