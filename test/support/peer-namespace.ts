import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' }).toString();
/** `mc-peer-<pid of the test process>-<n>`: a sweep can tell whose namespace it is. */
const NAME = /^mc-peer-(\d+)-(\d+)$/;

export interface PeerNamespace {
  /** This host's end of the veth pair: where the peer connects to. */
  hostAddress: string;
  /** The peer's own address, as the server sees it. */
  peerAddress: string;
  /** Runs a command inside the namespace; resolves with its output and exit code. */
  exec(command: string, args: string[]): Promise<{ code: number; output: string }>;
  /** Starts a long-running command inside the namespace; the caller stops it (kill) before remove(). */
  spawn(command: string, args: string[]): ChildProcess;
  remove(): void;
}

/** Why this machine cannot make a peer (network namespaces need root and iproute2), or null. */
export function whyNoPeers(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    ip('netns', 'list');
    return null;
  } catch (error) {
    return `ip netns: ${(error as Error).message}`;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Deletes the namespaces (and so their veth pairs) left by test processes that have died. */
export function sweepDeadPeers(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const match = NAME.exec(line.split(' ')[0]);
    if (!match || alive(Number(match[1]))) continue;
    tryIp('netns', 'delete', match[0]);
    tryIp('link', 'delete', `mch${match[2]}`);
  }
}

function tryIp(...args: string[]): boolean {
  try {
    ip(...args);
    return true;
  } catch {
    return false;
  }
}

/**
 * A peer at a non-loopback address on this machine: a network namespace joined to the host by a
 * veth pair on a private /30 of 10.233.0.0/16. Traffic stays on the pair. A name or an interface
 * already taken is never touched: another n is drawn.
 */
export function createPeerNamespace(): PeerNamespace {
  sweepDeadPeers();
  for (let attempt = 0; ; attempt += 1) {
    const n = randomInt(1, 16_000);
    const [hostIf, peerIf] = [`mch${n}`, `mcp${n}`];
    const name = `mc-peer-${process.pid}-${n}`;
    if (!tryIp('netns', 'add', name)) {
      if (attempt < 5) continue;
      throw new Error(`could not create a network namespace (${name})`);
    }
    const removeNamespace = () => void tryIp('netns', 'delete', name);
    if (!tryIp('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf)) {
      removeNamespace();
      if (attempt < 5) continue;
      throw new Error(`could not create a veth pair (${hostIf})`);
    }
    // The pair is ours now: deleting either end deletes both.
    const remove = () => {
      removeNamespace();
      tryIp('link', 'delete', hostIf);
    };
    try {
      return setUp(n, name, hostIf, peerIf, remove);
    } catch (error) {
      remove();
      throw error;
    }
  }
}

function setUp(
  n: number,
  name: string,
  hostIf: string,
  peerIf: string,
  remove: () => void,
): PeerNamespace {
  const base = 4 * n;
  const subnet = `10.233.${Math.floor(base / 256)}`;
  const hostAddress = `${subnet}.${(base % 256) + 1}`;
  const peerAddress = `${subnet}.${(base % 256) + 2}`;
  ip('link', 'set', peerIf, 'netns', name);
  ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', name, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerIf);
  ip('netns', 'exec', name, 'ip', 'link', 'set', peerIf, 'up');
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  return {
    hostAddress,
    peerAddress,
    exec: async (command, args) => {
      try {
        const { stdout, stderr } = await run('ip', ['netns', 'exec', name, command, ...args]);
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const { code, stdout, stderr } = error as {
          code?: number;
          stdout?: string;
          stderr?: string;
        };
        return { code: code ?? 1, output: `${stdout ?? ''}${stderr ?? ''}` };
      }
    },
    spawn: (command, args) => spawn('ip', ['netns', 'exec', name, command, ...args]),
    remove,
  };
}
