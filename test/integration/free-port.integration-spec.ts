import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortTakenError } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { freePort, onFreePort } from '../../src/stack/free-port';

/** A port another process holds, as one that took it after it was found free. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, server };
}

describe('servers on free ports', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'free-port-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a redis-server whose port was taken fails with PortTakenError, naming its log', async () => {
    const held = await holdPort();
    try {
      const started = startRedisServer(dataDir, held.port);
      await expect(started).rejects.toBeInstanceOf(PortTakenError);
      await expect(started).rejects.toThrow(/redis-server exited with 1; see .*redis-server\.log/);
    } finally {
      held.server.close();
    }
  });

  it('a port taken before the bind: another free port is tried, at most three in all', async () => {
    const tried: number[] = [];
    const taken = (port: number) => (tried.push(port), Promise.reject(new PortTakenError('taken')));

    const port = await onFreePort((p) => (tried.length < 2 ? taken(p) : Promise.resolve(p)));
    expect(tried).toHaveLength(2);
    expect(port).toBeGreaterThan(0);

    tried.length = 0;
    await expect(onFreePort(taken)).rejects.toBeInstanceOf(PortTakenError);
    expect(tried).toHaveLength(3);
  });

  it('a port given is not replaced, and other failures are not retried', async () => {
    let calls = 0;
    const failing = () => (calls++, Promise.reject(new PortTakenError('taken')));
    await expect(onFreePort(failing, 6380)).rejects.toBeInstanceOf(PortTakenError);
    await expect(onFreePort(() => (calls++, Promise.reject(new Error('other'))))).rejects.toThrow(
      'other',
    );
    expect(calls).toBe(2);
  });
});
