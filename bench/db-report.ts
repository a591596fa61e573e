import Table from 'cli-table3';
import type { Connection, Types } from 'mongoose';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';

/** npm run bench:db's results and their printing (bench/db.ts measures). */
export type Operation = 'id' | 'title' | 'update';
export const OPERATIONS: Operation[] = ['id', 'title', 'update'];

export interface Cell {
  operation: Operation;
  concurrency: number;
  ops: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SizeResult {
  backend: string;
  documents: number;
  cells: Cell[];
  plans: Record<string, string>;
}

export interface Bundled {
  ids: Types.ObjectId[];
  titles: Array<{ title: string; year?: number }>;
}

/** What the server says it does for the find queries: an index (which) or a full scan. */
export async function plans(
  connection: Connection,
  bundled: Bundled,
): Promise<Record<string, string>> {
  const { title, year } = bundled.titles.find((t) => t.year !== undefined)!;
  const queries = {
    id: { filter: { _id: bundled.ids[0] } },
    title: { filter: { title }, sort: { 'imdb.votes': -1, _id: 1 } },
    'title+year': { filter: { title, year }, sort: { 'imdb.votes': -1, _id: 1 } },
  };
  const result: Record<string, string> = {};
  for (const [name, query] of Object.entries(queries)) {
    const explain = await connection
      .db!.command({ explain: { find: MOVIES_COLLECTION, ...query, limit: 1 } })
      .catch((error: Error) => ({ error: error.message }));
    result[name] = planSummary(explain);
  }
  return result;
}

function planSummary(explain: Record<string, unknown>): string {
  if (explain.error) return `explain failed: ${String(explain.error)}`;
  const text = JSON.stringify(explain.queryPlanner ?? explain);
  const pushdown = explain.filterPushdown === false ? ', filter not pushed down' : '';
  const index =
    /"(?:Index Name|indexName)":"([^"]+)"/.exec(text) ??
    /USING (?:COVERING )?INDEX (\w+)/.exec(text);
  if (index) return `index ${index[1]}${pushdown}`;
  if (/Seq Scan|COLLSCAN|detail=SCAN /.test(text)) return `full scan${pushdown}`;
  return `unknown plan${pushdown}`;
}

export function printTable(results: SizeResult[], concurrency: number[]): void {
  const head = ['backend', 'documents'];
  for (const operation of OPERATIONS) {
    for (const c of concurrency)
      head.push(c === 1 ? `${operation} p50 c=1` : `${operation} c=${c}`);
  }
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const result of results) {
    const row = [result.backend, result.documents.toLocaleString('en-US')];
    for (const operation of OPERATIONS) {
      for (const c of concurrency) {
        const cell = result.cells.find((x) => x.operation === operation && x.concurrency === c);
        if (!cell) row.push('—');
        else if (c === 1) row.push(`${cell.p50Ms} ms`);
        else row.push(`${cell.opsPerSecond.toLocaleString('en-US')} ops/s, p50 ${cell.p50Ms} ms`);
      }
    }
    table.push(row);
  }
  console.log(table.toString());
  for (const result of results) {
    const plan = Object.entries(result.plans)
      .map(([query, summary]) => `${query}: ${summary}`)
      .join('; ');
    console.log(`${result.backend} at ${result.documents}: ${plan}`);
  }
}
