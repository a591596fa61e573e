import { Logger } from '@nestjs/common';
import type { Connection, ConnectOptions } from 'mongoose';
import type { AppConfig } from '../config/app-config';

/**
 * Majority writes and primary reads at majority read concern: on a replica set no fill reads a
 * revision older than an acknowledged write, nor one a failover rolls back (docs/guarantees.md).
 * A standalone server (or FerretDB) accepts and ignores them.
 */
export function mongooseOptions(config: AppConfig): ConnectOptions {
  return {
    serverSelectionTimeoutMS: config.mongoTimeoutMs,
    connectTimeoutMS: config.mongoTimeoutMs,
    // Fail fast instead of queueing queries while MongoDB is away.
    bufferCommands: false,
    appName: 'movie-cache',
    retryWrites: true,
    writeConcern: { w: 'majority' },
    readPreference: 'primary',
    readConcern: { level: 'majority' },
  };
}

const everConnected = new WeakSet<Connection>();

/** Logs connection errors (instead of crashing on an unhandled 'error') and notes the first connect. */
export function watchConnection(connection: Connection): Connection {
  const logger = new Logger('MongoDB');
  connection.on('connected', () => everConnected.add(connection));
  connection.on('error', (error: Error) => logger.warn(`connection error: ${error.message}`));
  // The initial connect runs in the background (lazyConnection); its failure is retried by reconnect().
  connection.asPromise().catch(() => undefined);
  return connection;
}

/**
 * After a failed first connect the driver does not retry on its own; once connected it does.
 * Called by the health probe: opens the connection again if it never came up.
 */
export async function reconnectIfNeverConnected(
  connection: Connection,
  uri: string,
  config: AppConfig,
): Promise<void> {
  if (everConnected.has(connection) || connection.readyState !== 0) return;
  await connection.openUri(uri, mongooseOptions(config)).catch(() => undefined);
}
