import type { ChildProcess } from 'node:child_process';
import type { PeerNamespace } from './peer-namespace';

/**
 * Run by Node inside the namespace: listens on the peer's address and pipes each connection to
 * the target. It exits when its stdin closes, so it never outlives the test process.
 */
const RELAY = `
const net = require('node:net');
const [host, targetHost, targetPort] = process.argv.slice(1);
const server = net.createServer((client) => {
  const upstream = net.connect(Number(targetPort), targetHost);
  for (const [from, to] of [[client, upstream], [upstream, client]]) {
    from.pipe(to);
    from.on('error', () => to.destroy()).on('close', () => to.destroy());
  }
});
server.listen(0, host, () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

export interface PeerRelay {
  /** Where to connect (the peer's address): the target sees every call come from the peer. */
  address: string;
  stop(): void;
}

/**
 * A TCP relay in the peer's namespace to `target` (the host's end of its veth pair): what a proxy
 * on another machine is to the service, minus the headers, which the test's client adds itself.
 */
export async function relayFromPeer(
  peer: PeerNamespace,
  target: { host: string; port: number },
): Promise<PeerRelay> {
  const child = peer.spawn(process.execPath, [
    '-e',
    RELAY,
    peer.peerAddress,
    target.host,
    String(target.port),
  ]);
  const port = await firstLine(child);
  return { address: `${peer.peerAddress}:${port}`, stop: () => void child.kill() };
}

function firstLine(child: ChildProcess): Promise<string> {
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0].trim());
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`relay exited (${code}) before listening: ${stderr}`)),
    );
  });
}
