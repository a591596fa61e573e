import type { INestMicroservice } from '@nestjs/common';
import { MetricsService } from '../../src/metrics/metrics.service';

/** MongoDB queries of one operation an app instance has run (from its own metrics). */
export async function mongoQueryCount(app: INestMicroservice, operation: string): Promise<number> {
  const { values } = await app.get(MetricsService).mongoQueries.get();
  return values
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.operation === operation)
    .reduce((sum, v) => sum + v.value, 0);
}

/** Cache-aside fills an app instance made, by outcome (stored, cached, fenced, unfenced). */
export async function fillCounts(app: INestMicroservice): Promise<Record<string, number>> {
  const { values } = await app.get(MetricsService).cacheFills.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}
