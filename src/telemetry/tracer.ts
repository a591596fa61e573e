import { SpanStatusCode, context, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import { status } from '@grpc/grpc-js';
import { DomainError } from '../common/errors';

/** Set once tracing started: while off, no span is created and no context is entered. */
export const telemetry = { enabled: false };

export const tracer = trace.getTracer('movie-cache');

/**
 * Runs `work` in a span that ends with it, inside the active span (or as a root with
 * `options.root`); an error marks it unless it is the client's.
 */
export async function inSpan<T>(
  name: string,
  work: (span?: Span) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  // Outside a sampled call (and not a root of its own), no span: it would start a stray trace.
  if (!telemetry.enabled || (!options.root && !trace.getSpan(context.active()))) return work();
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setAttribute('error.type', (error as Error)?.constructor?.name ?? 'Error');
      if (!clientsFault(error)) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      throw error;
    } finally {
      span.end();
    }
  });
}

/** NOT_FOUND, INVALID_ARGUMENT and the like: answered as asked, not a failure of the service. */
const clientsFault = (error: unknown) =>
  error instanceof DomainError &&
  error.code !== status.UNAVAILABLE &&
  error.code !== status.DEADLINE_EXCEEDED;

/** trace_id and span_id of the active span, for log lines (a pino mixin). */
export function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return {
    trace_id: traceId,
    span_id: spanId,
    trace_flags: traceFlags.toString(16).padStart(2, '0'),
  };
}
