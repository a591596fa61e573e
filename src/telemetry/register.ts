import { createRequire } from 'node:module';
import { loadConfig } from '../config/app-config';
import type { Tracing } from './tracing';

/** Loaded only when tracing is on: the SDK and its exporters are a quarter of the modules. */
const loadTracing = () => createRequire(__filename)('./tracing') as typeof import('./tracing');

/**
 * Imported first by the entry points, before ioredis and mongodb are loaded (their
 * instrumentations patch on require). A bad configuration is reported by the entry's own
 * loadConfig, so here it only leaves tracing off.
 */
export const tracing: Tracing | undefined = (() => {
  try {
    const config = loadConfig().tracing;
    return config.enabled ? loadTracing().startTracing(config) : undefined;
  } catch {
    return undefined;
  }
})();
