/** A movie's title as a title lookup sees it (the year narrows it). */
export interface TitleRef {
  title: string;
  year?: number;
}

/**
 * One change MongoDB (or the embedded database) made to `movies`, by anyone. `insert`, `update`,
 * `replace` and `delete` name the movie; `drop`, `rename` and `invalidate` mean the whole
 * collection may have changed.
 */
export interface MovieChange {
  op: 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'invalidate';
  /** The movie's _id as 24 hex digits; absent for collection-wide changes or non-ObjectId ids. */
  id?: string;
  /** Titles the change touched, as far as the source knows them (old and new). */
  titles: TitleRef[];
  /** When the database made the change (ms since the epoch). */
  at: number;
}

/** Changes in the order the database committed them (none: the position moved on), and where to resume after them. */
export interface ChangeBatch {
  changes: MovieChange[];
  /** Opaque; `follow(token)` continues after the last change of this batch. */
  token: string;
}

/**
 * A source that hears nothing from its database for this long (no answer to a read, no batch or
 * heartbeat of a change stream) is stuck: it fails, so the feed reports it and hands the lease over
 * instead of renewing it while direct writes wait.
 */
export const SOURCE_STUCK_MS = 5_000;

/** The token cannot be resumed from (history pruned, or another database's): changes were lost. */
export class HistoryLostError extends Error {
  override readonly name = 'HistoryLostError';
}

/** Where the change feed reads from: a MongoDB change stream, or the embedded database's outbox. */
export interface ChangeSource {
  readonly name: 'mongodb-change-stream' | 'postgres-outbox';
  /**
   * A token for "from now on": every change committed after this call comes after it. Taken
   * before a flush, so a change is either covered by the flush or delivered.
   */
  now(): Promise<string>;
  /**
   * Delivers every change after `token`, one batch at a time (the next only once `onBatch`
   * resolved), until `signal` aborts (then it resolves). Rejects with HistoryLostError when the
   * token cannot be resumed, and with any other error when the connection fails (the caller
   * resumes from the last token it stored).
   */
  follow(
    token: string,
    onBatch: (batch: ChangeBatch) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
  /** Forgets history older than `retentionMs` (a source that keeps its own history needs none). */
  prune?(retentionMs: number): Promise<void>;
  close(): Promise<void>;
}
