import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/common/paths';

export type Verdict = 'linearizable' | 'NOT LINEARIZABLE' | 'UNKNOWN' | 'checker error';

/** lincheck's exit codes (tools/lincheck/main.go). */
const VERDICTS: Record<number, Verdict> = {
  0: 'linearizable',
  1: 'NOT LINEARIZABLE',
  3: 'UNKNOWN',
};

export interface CheckResult {
  verdict: Verdict;
  /** What lincheck printed: a line per movie, then the phase's verdict. */
  output: string;
}

/** Runs tools/lincheck (built by setup into .tools/bin) on a history file. */
export function checkHistory(
  historyPath: string,
  htmlPrefix: string,
  timeoutSeconds: number,
): Promise<CheckResult> {
  const lincheck = join(projectRoot(), '.tools/bin/lincheck');
  const args = ['-timeout', `${timeoutSeconds}s`, '-html', htmlPrefix, historyPath];
  return new Promise((resolve) =>
    execFile(lincheck, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({
        verdict: VERDICTS[code] ?? 'checker error',
        output: `${stdout}${stderr}${code in VERDICTS ? '' : `lincheck: ${error?.message}\n`}`,
      });
    }),
  );
}
