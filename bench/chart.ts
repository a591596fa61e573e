import { writeFileSync } from 'node:fs';
import type { Point } from './hits';

/** The latency chart of npm run bench (bench/results/latency.svg), drawn with Vega-Lite. */
export async function chart(results: Point[], file: string): Promise<void> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const values = results.flatMap((r) => [
    { scenario: r.name, percentile: 'p50', ms: r.p50Ms },
    { scenario: r.name, percentile: 'p99', ms: r.p99Ms },
  ]);
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'GetMovie latency under ghz load (lower is better)',
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'point', filled: true, size: 140 },
    encoding: {
      y: { field: 'scenario', type: 'nominal', sort: null, title: null },
      yOffset: { field: 'percentile' },
      x: {
        field: 'ms',
        type: 'quantitative',
        title: 'latency (ms, log scale)',
        scale: { type: 'log' },
      },
      color: { field: 'percentile', type: 'nominal' },
    },
  } as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
}
