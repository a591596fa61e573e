import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../common/sleep';

export interface ChildService {
  name: string;
  port: number;
  stop(): Promise<void>;
  /** Sends a signal, e.g. SIGSTOP/SIGCONT to freeze and resume the server. */
  signal(signal: NodeJS.Signals): void;
}

interface StartOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  logDir: string;
  /** Resolves true once the service answers. */
  probe: () => Promise<boolean>;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A crashing parent must not leave servers behind.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Starts a server as a child process, logs to <logDir>/<name>.log, waits until it answers. */
export async function startChildService(options: StartOptions): Promise<ChildService> {
  mkdirSync(options.logDir, { recursive: true });
  const logPath = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  running.add(child);

  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      exited = `could not start: ${error.message}`;
      running.delete(child);
      resolve();
    });
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(escalate);
    log.end();
  };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await options.probe().catch(() => false))) {
    if (exited) throw new Error(`${options.name} ${exited}; see ${logPath}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} did not answer on port ${options.port}; see ${logPath}`);
    }
    await sleep(100);
  }
  return { name: options.name, port: options.port, stop, signal: (sig) => void child.kill(sig) };
}
