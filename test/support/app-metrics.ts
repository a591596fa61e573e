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

/** The URL of an app instance's GET /metrics. */
export const metricsUrl = (app: Instance): string =>
  `http://127.0.0.1:${app.get(MetricsServer).port}/metrics`;

/** One scrape of an app instance's /metrics endpoint: sample lines by name and labels. */
export class MetricsScrape {
  private constructor(readonly samples: ReadonlyArray<{ series: string; value: number }>) {}

  static async of(url: string): Promise<MetricsScrape> {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
    const samples = (await response.text())
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return { series: line.slice(0, at), value: Number(line.slice(at + 1)) };
      });
    return new MetricsScrape(samples);
  }

  /** The sum over the series of `name` whose labels include every `label="value"` given. */
  sum(name: string, labels: Record<string, string> = {}): number {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    return this.samples
      .filter(({ series }) => series === name || series.startsWith(`${name}{`))
      .filter(({ series }) => wanted.every((label) => series.includes(label)))
      .reduce((total, { value }) => total + value, 0);
  }
}
