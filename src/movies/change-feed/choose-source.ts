import type { Connection } from 'mongoose';
import type { AppConfig } from '../../config/app-config';
import { MOVIES_COLLECTION } from '../movie.schema';
import type { ChangeSource } from './change-source';
import { MongoChangeStreamSource } from './mongo-change-stream.source';
import { PostgresOutboxSource } from './postgres-outbox.source';

/** The source, or why there is none. */
export type SourceChoice = { source: ChangeSource } | { off: string };

/**
 * CHANGE_FEED=auto: the embedded database's outbox when its PostgreSQL is known, else a change
 * stream when MongoDB is a replica set or a sharded cluster (a standalone mongod has none).
 */
export async function chooseSource(
  config: AppConfig['changeFeed'],
  connection: Connection,
): Promise<SourceChoice> {
  if (config.mode === 'off') return { off: 'CHANGE_FEED=off' };
  const db = connection.db!;
  if (config.mode === 'postgres' || (config.mode === 'auto' && config.postgresUrl)) {
    if (!config.postgresUrl) return { off: 'no PostgreSQL URL (CHANGE_FEED_POSTGRES_URL)' };
    return { source: new PostgresOutboxSource(config.postgresUrl, db.databaseName) };
  }
  if (config.mode === 'auto') {
    // Servers older than MongoDB 4.4 (and some look-alikes) answer only the legacy isMaster.
    const hello = await db
      .admin()
      .command({ hello: 1 })
      .catch(() => db.admin().command({ isMaster: 1 }));
    if (!hello.setName && hello.msg !== 'isdbgrid')
      return {
        off: 'MongoDB is standalone: change streams need a replica set or a sharded cluster (FerretDB on PostgreSQL: set CHANGE_FEED_POSTGRES_URL)',
      };
  }
  return { source: new MongoChangeStreamSource(db.collection(MOVIES_COLLECTION)) };
}
