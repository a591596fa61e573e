import { connect, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/stack/free-port';

/**
 * A TCP relay on a port of its own to a real server, for cutting one client's path to it: closed,
 * nobody listens on the port (connections are refused); frozen, connections are accepted and
 * kept but no byte goes through (a network that drops packets).
 */
export interface TcpRelay {
  port: number;
  /** Listens and forwards; connections frozen before go on. */
  open(): Promise<void>;
  /** Stops listening and resets every connection. */
  close(): Promise<void>;
  /** Holds every byte, both ways, on the connections open and on the ones to come. */
  freeze(): void;
}

/** A relay to `target` (a host and port, or a unix socket's path), closed until opened. */
export async function tcpRelay(target: NetConnectOpts): Promise<TcpRelay> {
  const port = await freePort();
  const pairs = new Set<[Socket, Socket]>();
  let server: Server | undefined;
  let frozen = false;

  const hold = ([client, upstream]: [Socket, Socket], held: boolean) => {
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      if (held) from.unpipe(to).pause();
      else from.pipe(to);
    }
  };
  const relay = (client: Socket) => {
    const upstream = connect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) socket.on('error', end).on('close', end);
    hold(pair, frozen);
  };

  return {
    port,
    open: () => {
      if (frozen) for (const pair of pairs) hold(pair, false);
      frozen = false;
      if (server) return Promise.resolve();
      server = createServer(relay);
      return new Promise((resolve, reject) =>
        server!.once('error', reject).listen(port, '127.0.0.1', () => resolve()),
      );
    },
    close: async () => {
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
      const closing = server;
      server = undefined;
      if (closing) await new Promise((resolve) => closing.close(resolve));
    },
    freeze: () => {
      frozen = true;
      for (const pair of pairs) hold(pair, true);
    },
  };
}

/**
 * A relay to the test PostgreSQL (on a unix socket only: postgres://role@/db?host=dir&port=n), and
 * its URL through the relay: for a client whose path to PostgreSQL a spec cuts, no one else's.
 */
export async function postgresRelay(
  postgresUrl: string,
): Promise<{ relay: TcpRelay; url: string }> {
  const parts = /^postgres:\/\/([^@/]*)@\/([^?]+)\?(.+)$/.exec(postgresUrl);
  if (!parts) throw new Error(`not a unix-socket PostgreSQL URL: ${postgresUrl}`);
  const [, role, database, query] = parts;
  const socket = new URLSearchParams(query);
  const relay = await tcpRelay({ path: `${socket.get('host')}/.s.PGSQL.${socket.get('port')}` });
  return { relay, url: `postgres://${role}@127.0.0.1:${relay.port}/${database}` };
}
