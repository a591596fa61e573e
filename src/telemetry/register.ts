import { loadConfig } from '../config/app-config';
import { startTracing, type Tracing } from './tracing';

/**
 * Imported first by the entry points, before ioredis and mongodb are loaded (their
 * instrumentations patch on require). A bad configuration is reported by the entry's own
 * loadConfig, so here it only leaves tracing off.
 */
export const tracing: Tracing | undefined = (() => {
  try {
    return startTracing(loadConfig().tracing);
  } catch {
    return undefined;
  }
})();
