import { status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import {
  FileDescriptorProto,
  type IDescriptorProto,
  type IEnumDescriptorProto,
  type IFileDescriptorProto,
} from 'protobufjs/ext/descriptor';
import { HEALTH_PROTO_PATH, MOVIE_PROTO_PATH } from '../../src/common/paths';
import { LOADER_OPTIONS } from '../../src/grpc/grpc-channel';

// Server reflection as the server publishes it: what it must find, and how to read its answers.

type Method = {
  requestSerialize(request: object): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseDeserialize(bytes: Buffer): unknown;
};

export type ReflectionVersion = 'v1' | 'v1alpha';

/** The reflection protos and decoder options @grpc/reflection serves them with. */
function reflectionMethod(version: ReflectionVersion): Method {
  const root = join(dirname(require.resolve('@grpc/reflection')), '../proto');
  const definition = protoLoader.loadSync(
    join(root, `grpc/reflection/${version}/reflection.proto`),
    { longs: String, enums: String, bytes: Array, defaults: true, oneofs: true },
  );
  const service = definition[`grpc.reflection.${version}.ServerReflection`];
  return (service as Record<string, Method>).ServerReflectionInfo;
}
const METHODS: Record<ReflectionVersion, Method> = {
  v1: reflectionMethod('v1'),
  v1alpha: reflectionMethod('v1alpha'),
};

/** A ServerReflectionRequest as the server decodes it (camelCase, the oneof named). */
export interface ReflectionRequest {
  host?: string;
  messageRequest?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType?: string; extensionNumber?: number };
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

interface ReflectionResponse {
  validHost: string;
  originalRequest?: ReflectionRequest;
  messageResponse?: string;
  fileDescriptorResponse?: { fileDescriptorProto: number[][] };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
  listServicesResponse?: { service: Array<{ name: string }> };
  errorResponse?: { errorCode: number; errorMessage: string };
}

export const encodeReflectionRequest = (version: ReflectionVersion, request: ReflectionRequest) =>
  METHODS[version].requestSerialize(request);

export function decodeReflectionRequest(version: ReflectionVersion, bytes: Buffer) {
  return METHODS[version].requestDeserialize(bytes) as ReflectionRequest;
}

/** What the server describes: MovieService and health.proto, loaded as the server loads them. */
const described = protoLoader.loadSync([MOVIE_PROTO_PATH, HEALTH_PROTO_PATH], {
  ...LOADER_OPTIONS,
  keepCase: true,
});
const FILES = new Map<string, IFileDescriptorProto>();
for (const entry of Object.values(described)) {
  for (const bytes of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
    const file = FileDescriptorProto.decode(bytes) as IFileDescriptorProto;
    if (file.name) FILES.set(file.name, file);
  }
}

/** Every fully-qualified name in the files (types, fields, oneofs, enum values, services, methods). */
function symbolsOf(file: IFileDescriptorProto): string[] {
  const enums = (scope: string, e: IEnumDescriptorProto) => [
    `${scope}.${e.name}`,
    ...(e.value ?? []).map((v) => `${scope}.${e.name}.${v.name}`),
  ];
  const messages = (scope: string, m: IDescriptorProto): string[] => {
    const name = `${scope}.${m.name}`;
    return [
      name,
      ...(m.field ?? []).map((f) => `${name}.${f.name}`),
      ...(m.oneofDecl ?? []).map((o) => `${name}.${o.name}`),
      ...(m.enumType ?? []).flatMap((e) => enums(name, e)),
      ...(m.nestedType ?? []).flatMap((n) => messages(name, n)),
    ];
  };
  const scope = file.package ?? '';
  return [
    ...(file.messageType ?? []).flatMap((m) => messages(scope, m)),
    ...(file.enumType ?? []).flatMap((e) => enums(scope, e)),
    ...(file.service ?? []).flatMap((s) => [
      `${scope}.${s.name}`,
      ...(s.method ?? []).map((m) => `${scope}.${s.name}.${m.name}`),
    ]),
  ];
}
/** Symbol → the name of the file declaring it. */
const SYMBOLS = new Map(
  [...FILES.values()].flatMap((file) => symbolsOf(file).map((s) => [s, file.name!] as const)),
);
const MESSAGE_TYPES = new Set(
  [...FILES.values()].flatMap((file) =>
    (file.messageType ?? []).map((m) => `${file.package}.${m.name}`),
  ),
);

export const REFLECTED = {
  services: [...FILES.values()].flatMap((f) =>
    (f.service ?? []).map((s) => `${f.package}.${s.name}`),
  ),
  symbols: [...SYMBOLS.keys()],
  files: [...FILES.keys()],
  messageTypes: [...MESSAGE_TYPES],
};

/**
 * Names that are no symbol or file: near misses of real ones, and the members of every JavaScript
 * object (an index kept in a plain object answers those as found).
 */
export const UNKNOWN_NAMES = [
  'movies.v1.NoSuchService',
  'movies.v1.MovieService.NoSuchMethod',
  'movies.v1.movieservice',
  'MovieService',
  'movies_v1',
  'movie_service.proto',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
];

/**
 * What is wrong with a reflection answer to `request`: an unknown name must get an in-band
 * NOT_FOUND, a known one its file, list_services every service described.
 */
export function judgeReflection(
  version: ReflectionVersion,
  request: ReflectionRequest,
  bytes: Buffer,
): string[] {
  const response = METHODS[version].responseDeserialize(bytes) as ReflectionResponse;
  const problems: string[] = [];
  if (response.validHost !== (request.host ?? ''))
    problems.push(`valid_host ${JSON.stringify(response.validHost)} for ${request.host}`);
  if (response.originalRequest?.messageRequest !== request.messageRequest)
    problems.push(`original_request ${JSON.stringify(response.originalRequest)}`);
  const { errorResponse: error } = response;
  const answered = error
    ? `error_response ${status[error.errorCode] ?? error.errorCode} "${error.errorMessage}"`
    : response.listServicesResponse
      ? `services ${response.listServicesResponse.service.map((s) => s.name).join()}`
      : (response.messageResponse ?? 'nothing');
  const expect = (ok: boolean, want: string) =>
    ok ? [] : [`${answered} where ${want} was expected for ${JSON.stringify(request)}`];
  const notFound = error?.errorCode === status.NOT_FOUND;
  switch (request.messageRequest) {
    case 'listServices': {
      const names = response.listServicesResponse?.service.map((s) => s.name).sort();
      return [
        ...problems,
        ...expect(
          names?.join() === [...REFLECTED.services].sort().join(),
          REFLECTED.services.join(),
        ),
      ];
    }
    case 'fileContainingSymbol': {
      const file = SYMBOLS.get(request.fileContainingSymbol!);
      return [
        ...problems,
        ...(file ? fileAnswer(response, file, expect) : expect(notFound, 'NOT_FOUND')),
      ];
    }
    case 'fileByFilename': {
      const file = FILES.has(request.fileByFilename!) ? request.fileByFilename! : undefined;
      return [
        ...problems,
        ...(file ? fileAnswer(response, file, expect) : expect(notFound, 'NOT_FOUND')),
      ];
    }
    case 'fileContainingExtension':
      // The described files are proto3 and extend nothing.
      return [...problems, ...expect(notFound, 'NOT_FOUND')];
    case 'allExtensionNumbersOfType': {
      const type = request.allExtensionNumbersOfType!;
      const none = response.allExtensionNumbersResponse;
      const empty = none?.baseTypeName === type && none.extensionNumber.length === 0;
      return [
        ...problems,
        ...expect(notFound || (MESSAGE_TYPES.has(type) && empty), 'NOT_FOUND or no extensions'),
      ];
    }
    default: {
      // No request in the message: an error, but not the server's own failure.
      const code = error?.errorCode;
      return [
        ...problems,
        ...expect(
          code === status.INVALID_ARGUMENT || code === status.UNIMPLEMENTED,
          'an INVALID_ARGUMENT or UNIMPLEMENTED error_response',
        ),
      ];
    }
  }
}

/** A message the server could not decode is refused in-band like any other: INVALID_ARGUMENT. */
export function judgeUnreadable(version: ReflectionVersion, bytes: Buffer): string[] {
  const { errorResponse: error, messageResponse } = METHODS[version].responseDeserialize(
    bytes,
  ) as ReflectionResponse;
  if (error?.errorCode === status.INVALID_ARGUMENT) return [];
  const answered = error
    ? `error_response ${status[error.errorCode] ?? error.errorCode} "${error.errorMessage}"`
    : (messageResponse ?? 'nothing');
  return [`${answered} to a message that is not a ServerReflectionRequest, not INVALID_ARGUMENT`];
}

/** The error message a reflection answer carries, to search for leaked internals. */
export function reflectionErrorMessage(version: ReflectionVersion, bytes: Buffer): string {
  const response = METHODS[version].responseDeserialize(bytes) as ReflectionResponse;
  return response.errorResponse?.errorMessage ?? '';
}

/** A file answer: the named file first, then the files it depends on, each a real descriptor. */
function fileAnswer(
  response: ReflectionResponse,
  name: string,
  expect: (ok: boolean, want: string) => string[],
): string[] {
  const files = (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map(
    (bytes) => FileDescriptorProto.decode(Uint8Array.from(bytes)) as IFileDescriptorProto,
  );
  const names = files.map((f) => f.name);
  return expect(
    names[0] === name && names.every((n) => n !== undefined && FILES.has(n)),
    `file_descriptor_response with ${name} first`,
  );
}
