import { createServer } from 'node:net';
import { PortTakenError } from './child-service';

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Tries of a free port: another process may take one between the look and the server's bind. */
const PORT_TRIES = 3;

/**
 * Starts a server on `port`, or on a free port, choosing another when the server found it taken
 * by the time it bound it (PortTakenError).
 */
export async function onFreePort<T>(
  start: (port: number) => Promise<T>,
  port?: number,
): Promise<T> {
  if (port !== undefined) return start(port);
  for (let tries = 1; ; tries += 1) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || tries >= PORT_TRIES) throw error;
    }
  }
}
