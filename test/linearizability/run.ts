/**
 * npm run test:linearizability: three instances under 18 clients and a nemesis per phase, each
 * phase's history checked for linearizability by tools/lincheck (Porcupine). See docs/testing.md.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/common/paths';
import { buildService } from '../support/service-process';
import { NEMESES, type Nemesis } from './nemeses';
import { runPhase, type PhaseResult } from './phase';

const USAGE = `usage: npm run test:linearizability -- [options]
  --phases <list>      comma-separated, of: ${NEMESES.map((n) => n.name).join(', ')} (default: all)
  --seconds <n>        seconds of fault per phase (default 12; --short: 4)
  --runs <n>           repeat every phase n times, stop at the first failure (default 1)
  --near-cache on|off  the instances' NEAR_CACHE (default on)
  --cluster            every phase on a Redis Cluster (3 masters + 3 replicas)
  --short              the CI version: every phase, short`;

interface Options {
  phases: Nemesis[];
  seconds: number;
  runs: number;
  nearCache: 'on' | 'off';
  cluster: boolean;
  short: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      phases: { type: 'string' },
      seconds: { type: 'string' },
      runs: { type: 'string', default: '1' },
      'near-cache': { type: 'string', default: 'on' },
      cluster: { type: 'boolean', default: false },
      short: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const fail = (message: string): never => {
    console.error(`${message}\n${USAGE}`);
    process.exit(2);
  };
  if (values.help) fail('');
  const names = values.phases?.split(',') ?? NEMESES.map((n) => n.name);
  const phases = names.map(
    (name) => NEMESES.find((n) => n.name === name) ?? fail(`unknown phase ${name}`),
  );
  const seconds = Number(values.seconds ?? (values.short ? 4 : 12));
  const runs = Number(values.runs);
  const nearCache = values['near-cache'];
  if (!(seconds > 0)) fail('--seconds must be a positive number');
  if (!Number.isInteger(runs) || runs < 1) fail('--runs must be a positive integer');
  if (nearCache !== 'on' && nearCache !== 'off') fail('--near-cache must be on or off');
  return {
    phases,
    seconds,
    runs,
    nearCache: nearCache as 'on' | 'off',
    cluster: values.cluster,
    short: values.short,
  };
}

const passed = (result: PhaseResult) => result.verdict === 'linearizable';

function printSummary(results: PhaseResult[]): void {
  const header = ['phase', 'ops', 'reads', 'writes', 'unknown writes', 'verdict', 'inversions'];
  const rows = results.map((r) => [
    r.label,
    String(r.counts.ops),
    String(r.counts.reads),
    String(r.counts.writes),
    String(r.counts.unknownWrites),
    r.verdict,
    String(r.inversions.count),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  console.log(`\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}`);
  rows.forEach((row) => console.log(line(row)));
}

async function main(): Promise<void> {
  const opts = options();
  const started = performance.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportDir = join(projectRoot(), 'reports/linearizability', stamp);
  mkdirSync(reportDir, { recursive: true });
  buildService();
  console.log(
    `linearizability: ${opts.phases.map((p) => p.name).join(', ')}; ${opts.seconds} s each, ` +
      `near-cache ${opts.nearCache}, ${opts.cluster ? 'Redis Cluster' : 'one redis-server'}` +
      `${opts.runs > 1 ? `, ${opts.runs} runs` : ''}`,
  );
  const results: PhaseResult[] = [];
  let errors = 0;
  runs: for (let run = 1; run <= opts.runs; run += 1) {
    for (const nemesis of opts.phases) {
      const label = opts.runs > 1 ? `${nemesis.name}-${run}` : nemesis.name;
      const phaseStarted = performance.now();
      console.log(`\n== ${label}: ${nemesis.summary}`);
      try {
        const result = await runPhase({
          nemesis,
          label,
          seconds: opts.seconds,
          nearCache: opts.nearCache,
          cluster: opts.cluster,
          reportDir,
          checkTimeoutSeconds: opts.short ? 20 : 300,
        });
        results.push(result);
        const { counts, inversions } = result;
        console.log(
          result.output.trimEnd().replace(/^/gm, '   ') +
            `\n   ${counts.ops} ops (${counts.reads} reads, ${counts.failedReads} failed;` +
            ` ${counts.writes} writes, ${counts.unknownWrites} unknown), ` +
            `${inversions.count} new-old inversions${inversions.example ? `, e.g. ${inversions.example}` : ''}` +
            ` (phase took ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s)`,
        );
        if (!passed(result) && opts.runs > 1) break runs;
      } catch (error) {
        errors += 1;
        console.error(`   phase failed to run: ${(error as Error).stack ?? String(error)}`);
        if (opts.runs > 1) break runs;
      }
    }
  }
  printSummary(results);
  const ok = errors === 0 && results.every(passed);
  const took = ((performance.now() - started) / 1000).toFixed(0);
  if (ok) {
    rmSync(reportDir, { recursive: true, force: true });
    console.log(`\nlinearizable in every phase (${took} s)`);
    return;
  }
  console.log(
    `\nFAILED (${took} s): histories, visualizations and instance logs in ` +
      relative(process.cwd(), reportDir),
  );
  process.exitCode = 1;
}

// Exit handlers stop the servers and instances of a phase cut short.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
