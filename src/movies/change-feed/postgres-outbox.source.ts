import { setTimeout as delay } from 'node:timers/promises';
import { Client, Pool, type QueryConfig } from 'pg';
import { CHANGE_CHANNEL, changeOutboxSql } from '../../stack/change-outbox';
import {
  HistoryLostError,
  SOURCE_STUCK_MS,
  type ChangeBatch,
  type ChangeSource,
} from './change-source';
import {
  BATCH_SIZE,
  NOW_SQL,
  PRUNE_SQL,
  READ_SQL,
  toChange,
  type NowRow,
  type ReadRow,
} from './postgres-outbox.queries';

/** A notification can be missed, or come before its row is deliverable: read this often anyway. */
const POLL_MS = 1000;
/** A goodbye takes milliseconds; one on a stuck path is never answered, so it is not waited for. */
const GOODBYE_MS = 1_000;

/** One of the feed's reads, bounded by SOURCE_STUCK_MS (pg honours a query's own query_timeout). */
function boundedRead(text: string, values: unknown[] = []): QueryConfig {
  const read: QueryConfig & { query_timeout: number } = {
    text,
    values,
    query_timeout: SOURCE_STUCK_MS,
  };
  return read;
}

/** Wakes the reader on a notification, on abort or after a while; fails with the connection. */
class Wakeup {
  private pending = false;
  private failure?: Error;
  private wake?: () => void;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.pending && !this.failure) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
    this.wake = undefined;
    this.pending = false;
    if (this.failure) throw this.failure;
  }
}

/**
 * The embedded database's changes, read from the outbox that triggers fill under FerretDB
 * (src/stack/change-outbox.ts). Tokens are `<outbox_id>:<xid>:<seq>`.
 */
export class PostgresOutboxSource implements ChangeSource {
  readonly name = 'postgres-outbox';
  private readonly pool: Pool;
  private readonly listeners = new Set<Client>();
  private installed?: Promise<void>;

  constructor(
    private readonly connectionString: string,
    /** The MongoDB database, which FerretDB keeps as a PostgreSQL schema. */
    private readonly database: string,
  ) {
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: SOURCE_STUCK_MS });
    this.pool.on('error', () => undefined); // an idle client's loss: the next query reports it
  }

  async now(): Promise<string> {
    await this.install();
    const { rows } = await this.pool.query<NowRow>(boundedRead(NOW_SQL));
    return `${rows[0].outbox_id}:${rows[0].xmin}:0`;
  }

  async follow(
    token: string,
    onBatch: (batch: ChangeBatch) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const parsed = /^([0-9a-f-]{36}):(\d+):(\d+)$/.exec(token);
    if (!parsed) throw new HistoryLostError(`not a ${this.name} token: ${token}`);
    const outboxId = parsed[1];
    let position = { xid: parsed[2], seq: parsed[3] }; // xid8 and bigint, as decimal strings
    let delivered = token;
    await this.install();

    const wakeup = new Wakeup();
    // Only LISTENs: a terminated wake-up connection fails the follow, as a failed read does.
    const listener = new Client({
      connectionString: this.connectionString,
      application_name: `movie-cache feed ${this.database}`,
      connectionTimeoutMillis: SOURCE_STUCK_MS,
      query_timeout: SOURCE_STUCK_MS,
    });
    listener.on('notification', () => wakeup.notify());
    listener.on('error', (error) => wakeup.fail(error));
    listener.on('end', () => wakeup.fail(new Error('change feed connection closed')));
    const onAbort = () => wakeup.notify();
    signal.addEventListener('abort', onAbort);
    this.listeners.add(listener);
    try {
      await listener.connect();
      await listener.query(`LISTEN ${CHANGE_CHANNEL}`);
      while (!signal.aborted) {
        const { rows } = await this.pool.query<ReadRow>(
          boundedRead(READ_SQL, [this.database, position.xid, position.seq]),
        );
        const head = rows[0];
        if (head.outbox_id !== outboxId) throw new HistoryLostError('the outbox was re-created');
        if (head.lost) throw new HistoryLostError('the outbox was pruned past this token');
        const changed = rows.filter((row) => row.xid !== null);
        const last = changed.at(-1);
        if (last) {
          delivered = `${outboxId}:${last.xid}:${last.seq}`;
          await onBatch({ changes: changed.map(toChange), token: delivered });
        }
        if (changed.length === BATCH_SIZE) position = { xid: last!.xid!, seq: last!.seq! };
        else {
          // Nothing of this database is left below xmin, and later rows get an xid >= xmin.
          position = { xid: head.xmin, seq: '0' };
          // An idle database's token moves on too, so pruning other databases' rows never
          // leaves it behind.
          const idle = `${outboxId}:${head.xmin}:0`;
          if (!last && idle !== delivered)
            await onBatch({ changes: [], token: (delivered = idle) });
          await wakeup.wait(POLL_MS);
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.listeners.delete(listener);
      await hangUp(listener);
    }
  }

  /** Deletes changes older than retentionMs (all databases'); tokens before them are then lost. */
  async prune(retentionMs: number): Promise<void> {
    await this.install();
    await this.pool.query(PRUNE_SQL, [retentionMs]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map(hangUp));
    await atMost(GOODBYE_MS, this.pool.end());
  }

  /** Once per source; the lock keeps services starting together from installing at once. */
  private install(): Promise<void> {
    if (!this.installed) {
      const lock = `SELECT pg_advisory_xact_lock(hashtext('movie_cache.outbox'));`;
      this.installed = this.pool.query(`${lock}\n${changeOutboxSql()}`).then(() => undefined);
      this.installed.catch(() => (this.installed = undefined)); // the next call tries again
    }
    return this.installed;
  }
}

/** Ends a client's connection, or drops it once its goodbye went unanswered for GOODBYE_MS. */
async function hangUp(client: Client): Promise<void> {
  if (!(await atMost(GOODBYE_MS, client.end()))) client.connection.stream.destroy();
}

/** Whether `work` settled within `ms` (it may still settle later). */
async function atMost(ms: number, work: Promise<unknown>): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, delay(ms, false, { ref: false })]);
}
