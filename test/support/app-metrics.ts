import type { INestMicroservice } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { MetricsService } from '../../src/metrics/metrics.service';
import { MetricsServer } from '../../src/ops/metrics.server';

/** MongoDB queries of one operation an app instance has run (from its own metrics). */
export async function mongoQueryCount(app: INestMicroservice, operation: string): Promise<number> {
  const { values } = await app.get(MetricsService).mongoQueries.get();
  return values
    .filter((v) => v.metricName?.endsWith('_count') && v.labels.operation === operation)
    .reduce((sum, v) => sum + v.value, 0);
}

type Instance = Pick<INestMicroservice, 'get'>;

/** Cache-aside fills an app instance made, by outcome (stored, cached, fenced, unfenced). */
export function fillCounts(app: Instance): Promise<Record<string, number>> {
  return outcomeCounts(app, 'cacheFills');
}

/** Refresh-ahead fills an app instance made, by outcome (as fills, or failed). */
export function refreshCounts(app: Instance): Promise<Record<string, number>> {
  return outcomeCounts(app, 'cacheRefreshes');
}

async function outcomeCounts(
  app: Instance,
  counter: 'cacheFills' | 'cacheRefreshes',
): Promise<Record<string, number>> {
  const { values } = await app.get(MetricsService)[counter].get();
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

/**
 * Commands of one kind the MongoDB server has run, from its own counters (serverStatus
 * `metrics.commands`, kept by MongoDB and FerretDB alike): counted where the queries land, not by
 * the app. Server-wide: take differences around what a spec does.
 */
export async function serverCommandCount(app: INestMicroservice, command: string): Promise<number> {
  const connection = app.get<Connection>(getConnectionToken());
  const status = await connection.db!.admin().command({ serverStatus: 1 });
  return Number(status.metrics?.commands?.[command]?.total ?? 0);
}

/** One scrape of an app instance's GET /metrics: each series' value, by `name{labels}`. */
export async function scrapeMetrics(app: Instance): Promise<Record<string, number>> {
  const response = await fetch(`http://127.0.0.1:${app.get(MetricsServer).port}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return Object.fromEntries(
    (await response.text())
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const space = line.lastIndexOf(' ');
        return [line.slice(0, space), Number(line.slice(space + 1))];
      }),
  );
}
