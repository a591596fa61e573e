import { status, type Metadata } from '@grpc/grpc-js';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  propagation,
  trace,
  type Context,
  type TextMapGetter,
} from '@opentelemetry/api';
import { cacheAttributes, type Answer } from '../telemetry/cache-attributes';
import { CHOSEN_CALL, sampleCall } from '../telemetry/call-sampling';
import { tracer } from '../telemetry/tracer';

/** The codes that are the server's fault (OpenTelemetry's gRPC conventions). */
const SERVER_ERRORS = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

const fromMetadata: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

export interface ServerSpan {
  /** The call's context: the handler runs in it, so its Redis and MongoDB spans are children. */
  context: Context;
  end(code: status, details?: string, answer?: Answer): void;
}

/**
 * A SERVER span for one call, continuing the caller's W3C trace context from the metadata;
 * undefined for a call that is not sampled (it runs in no trace context at all).
 */
export function startServerSpan(
  path: string,
  metadata: Metadata | undefined,
): ServerSpan | undefined {
  let parent: Context;
  if (metadata && metadata.get('traceparent').length > 0)
    parent = propagation.extract(ROOT_CONTEXT, metadata, fromMetadata);
  else if (sampleCall()) parent = CHOSEN_CALL;
  else return undefined;
  const slash = path.lastIndexOf('/');
  const span = tracer.startSpan(
    path.slice(1),
    {
      kind: SpanKind.SERVER,
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': path.slice(1, slash),
        'rpc.method': path.slice(slash + 1),
      },
    },
    parent,
  );
  // The caller's trace is not sampled: nothing below would be either.
  if (!span.isRecording()) return undefined;
  return {
    context: trace.setSpan(parent, span),
    end(code, details, answer) {
      span.setAttribute('rpc.grpc.status_code', code);
      if (answer) span.setAttributes(cacheAttributes(answer));
      if (SERVER_ERRORS.has(code))
        span.setStatus({ code: SpanStatusCode.ERROR, message: details ?? status[code] });
      span.end();
    },
  };
}
