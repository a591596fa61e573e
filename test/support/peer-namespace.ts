import { execFile, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PeerNamespace {
  /** This host's end of the veth pair: where the peer connects to. */
  hostAddress: string;
  /** The peer's own address, as the server sees it. */
  peerAddress: string;
  /** Runs a command inside the namespace; resolves with its output and exit code. */
  exec(command: string, args: string[]): Promise<{ code: number; output: string }>;
  remove(): void;
}

/** Network namespaces need root and iproute2; specs that need a remote peer skip without them. */
export function canMakePeers(): boolean {
  try {
    return process.getuid?.() === 0 && execFileSync('ip', ['netns', 'list']) !== undefined;
  } catch {
    return false;
  }
}

/**
 * A peer at a non-loopback address on this machine: a network namespace joined to the host by a
 * veth pair on a private /30 of 10.233.0.0/16. Traffic stays on the pair.
 */
export function createPeerNamespace(): PeerNamespace {
  const n = randomInt(1, 16_000);
  const name = `mc-peer-${n}`;
  const [hostIf, peerIf] = [`mch${n}`, `mcp${n}`];
  const base = 4 * n;
  const subnet = `10.233.${Math.floor(base / 256)}`;
  const hostAddress = `${subnet}.${(base % 256) + 1}`;
  const peerAddress = `${subnet}.${(base % 256) + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const remove = () => {
    try {
      ip('netns', 'delete', name); // takes the peer end, and so the pair, with it
    } catch {
      // already gone
    }
    try {
      ip('link', 'delete', hostIf);
    } catch {
      // went with the namespace
    }
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerIf);
    ip('netns', 'exec', name, 'ip', 'link', 'set', peerIf, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    remove();
    throw error;
  }
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
    remove,
  };
}
