import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

type Plain = string | number | boolean | Plain[];

/** A span as OTLP/JSON carries it, with its attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes: Record<string, Plain>;
  status: { code?: number; message?: string };
  events: Array<{ name: string }>;
}

/** One export request as it arrived: how, its content type, and its body. */
export interface ReceivedExport {
  via: 'http' | 'grpc';
  contentType?: string;
  body: Buffer;
}

export interface OtlpReceiver {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the HTTP protocols. */
  httpUrl: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT for grpc. */
  grpcUrl: string;
  /** Spans decoded from OTLP/JSON exports. */
  spans: ReceivedSpan[];
  exports: ReceivedExport[];
  close(): Promise<void>;
}

type JsonValue = {
  arrayValue?: { values?: JsonValue[] };
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};
type JsonSpan = Omit<ReceivedSpan, 'service' | 'attributes'> & {
  attributes?: Array<{ key: string; value: JsonValue }>;
};
type JsonExport = {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: JsonValue }> };
    scopeSpans?: Array<{ spans?: JsonSpan[] }>;
  }>;
};

const plain = (value: JsonValue): Plain =>
  (value.arrayValue ? (value.arrayValue.values ?? []).map(plain) : undefined) ??
  value.stringValue ??
  (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value.doubleValue ??
  value.boolValue ??
  '';

const attributesOf = (list: Array<{ key: string; value: JsonValue }> = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]));

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** The raw TraceService/Export method: requests kept as bytes, an empty response. */
const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (bytes: Buffer) => bytes,
    requestDeserialize: (bytes: Buffer) => bytes,
    responseSerialize: (bytes: Buffer) => bytes,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

/** An OTLP collector for tests: HTTP (JSON or protobuf) and gRPC, keeping what it receives. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: ReceivedExport[] = [];
  const http = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const contentType = request.headers['content-type'];
      exports.push({ via: 'http', contentType, body });
      if (contentType?.startsWith('application/json')) {
        for (const resource of (JSON.parse(body.toString()) as JsonExport).resourceSpans ?? []) {
          const service = String(attributesOf(resource.resource?.attributes)['service.name']);
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              spans.push({
                ...span,
                service,
                parentSpanId: span.parentSpanId || undefined,
                attributes: attributesOf(span.attributes),
                status: span.status ?? {},
                events: span.events ?? [],
              });
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else response.writeHead(200, { 'content-type': contentType ?? '' }).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const grpc = new Server();
  grpc.addService(TRACE_SERVICE, {
    Export: (call: { request: Buffer }, done: (error: null, reply: Buffer) => void) => {
      exports.push({ via: 'grpc', body: call.request });
      done(null, Buffer.alloc(0));
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
  return {
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    spans,
    exports,
    close: async () => {
      grpc.forceShutdown();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
