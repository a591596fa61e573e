import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { AppConfig } from '../config/app-config';
import { callSampler } from './sampling';
import { telemetry } from './tracer';

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry's Node SDK, configured by the standard OTEL_* variables (exporter, protocol,
 * sampler). Call before ioredis and mongodb are loaded: their instrumentations patch on require.
 * Metrics stay on Prometheus and logs on stdout, so only traces are exported.
 */
export function startTracing(config: AppConfig['tracing']): Tracing | undefined {
  if (!config.enabled) return undefined;
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations: [
      // Only inside a traced call or feed batch: pings and heartbeats start no traces.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new MongoDBInstrumentation({ requireParentSpan: true }),
    ],
    sampler: callSampler(config),
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  telemetry.enabled = true;
  return { shutdown: () => sdk.shutdown() };
}
