import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../common/sleep';

export interface ChildService {
  name: string;
  port: number;
  stop(): Promise<void>;
  /** Sends a signal, e.g. SIGSTOP/SIGCONT to freeze and resume the server. */
  signal(signal: NodeJS.Signals): void;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  logDir: string;
  /** Resolves true once the service answers. */
  probe: () => Promise<boolean>;
  timeoutMs?: number;
  /** The signal for a clean stop (PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
  /** Run as this user (e.g. postgres, which refuses to run as root). */
  uid?: number;
  gid?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The server could not bind its port: another process took it after it was found free. */
export class PortTakenError extends Error {}

const PORT_TAKEN = /address already in use|EADDRINUSE/i;
/** How long an exited server's last output may take to reach its log. */
const LAST_WORDS_MS = 200;

const running = new Map<ChildProcess, NodeJS.Signals>();
// A crashing parent must not leave servers behind.
process.once('exit', () => running.forEach((signal, child) => child.kill(signal)));

/** Starts a server as a child process, logs to <logDir>/<name>.log, waits until it answers. */
export async function startChildService(options: StartOptions): Promise<ChildService> {
  mkdirSync(options.logDir, { recursive: true });
  const logPath = join(options.logDir, `${options.name}.log`);
  // Where this start's output begins in the log (a restart appends to it).
  const logStart = existsSync(logPath) ? statSync(logPath).size : 0;
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd,
    env: options.env,
  });
  // Both into one log, ended once both are done: output may still arrive after the exit.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  log.on('error', () => undefined); // a log that cannot be written must not end the parent
  // PostgreSQL's immediate shutdown (SIGQUIT) still stops its backends; SIGKILL would orphan them.
  running.set(child, options.stopSignal === 'SIGINT' ? 'SIGQUIT' : 'SIGKILL');

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
    child.kill(options.stopSignal ?? 'SIGTERM');
    const escalate = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(escalate);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await options.probe().catch(() => false))) {
    if (exited) {
      const message = `${options.name} ${exited}; see ${logPath}`;
      await sleep(LAST_WORDS_MS);
      const output = readFileSync(logPath).subarray(logStart).toString();
      throw PORT_TAKEN.test(output) ? new PortTakenError(message) : new Error(message);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} did not answer on port ${options.port}; see ${logPath}`);
    }
    await sleep(100);
  }
  return { name: options.name, port: options.port, stop, signal: (sig) => void child.kill(sig) };
}
