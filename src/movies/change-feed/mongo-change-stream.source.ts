import { EJSON, ObjectId, Timestamp, type Document } from 'bson';
import { mongo } from 'mongoose';
import {
  HistoryLostError,
  SOURCE_STUCK_MS,
  type ChangeBatch,
  type ChangeSource,
  type MovieChange,
} from './change-source';

type ChangeEvent = mongo.ChangeStreamDocument<Document>;
type ChangeStream = mongo.ChangeStream<Document, ChangeEvent>;

/** Where a stream starts: one of the three change-stream options, named in the token. */
const STARTS = ['resumeAfter', 'startAfter', 'startAtOperationTime'] as const;
type StartOption = (typeof STARTS)[number];
type Start = Pick<mongo.ChangeStreamOptions, StartOption>;

const BATCH_SIZE = 500;
/** How long the server holds a getMore with nothing to return: an idle stream's heartbeat. */
const HEARTBEAT_MS = 1_000;
/**
 * ChangeStreamFatalError (e.g. the token's event is not in the oplog), ChangeStreamHistoryLost, and
 * BSONObjectTooLarge: an event over 16 MB (updateLookup's document with its update) fails every
 * read from before it, so it is lost as pruned history is; retried, the feed would never pass it.
 */
const HISTORY_LOST_CODES = new Set([280, 286, 10334]);
const MOVIE_OPS = new Set<string>(['insert', 'update', 'replace', 'delete']);
const COLLECTION_OPS = new Set<string>(['drop', 'rename', 'invalidate']);

/** The movies collection's MongoDB change stream (a replica set's or a sharded cluster's). */
export class MongoChangeStreamSource implements ChangeSource {
  readonly name = 'mongodb-change-stream';
  private readonly open = new Set<ChangeStream>();

  constructor(private readonly movies: mongo.Collection<Document>) {}

  /**
   * Every reply of a replica set carries the time of the last applied write; starting at it
   * (inclusive) may deliver that write again, never skips a later one.
   */
  async now(): Promise<string> {
    const reply = await this.movies.db.command({ ping: 1 });
    const time: unknown =
      reply.operationTime ?? reply.$clusterTime?.clusterTime ?? (await this.lastOplogTime());
    return encodeToken('startAtOperationTime', time);
  }

  async follow(
    token: string,
    onBatch: (batch: ChangeBatch) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    let start: Start | undefined = parseToken(token);
    while (start && !signal.aborted) start = await this.followStream(start, onBatch, signal);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((stream) => stream.close()));
  }

  /** Reads one stream until the signal aborts (undefined) or it is invalidated (where to go on). */
  private async followStream(
    start: Start,
    onBatch: (batch: ChangeBatch) => Promise<void>,
    signal: AbortSignal,
  ): Promise<Start | undefined> {
    const stream: ChangeStream = this.movies.watch([], {
      fullDocument: 'updateLookup',
      maxAwaitTimeMS: HEARTBEAT_MS,
      ...start,
    });
    this.open.add(stream);
    const stop = () => void stream.close().catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        let last = await nextEvent(stream);
        const events = [last];
        // Only what is buffered: tryNext on an empty buffer waits for the server's next batch.
        while (last.operationType !== 'invalidate' && events.length < BATCH_SIZE) {
          const next = stream.bufferedCount() > 0 ? await stream.tryNext() : null;
          if (!next) break;
          events.push((last = next));
        }
        // After invalidate the stream is over, and resumeAfter its token is refused.
        const invalidated = last.operationType === 'invalidate';
        const token = invalidated
          ? encodeToken('startAfter', last._id)
          : encodeToken('resumeAfter', stream.resumeToken);
        await onBatch({ changes: events.flatMap(toMovieChange), token });
        if (invalidated) return { startAfter: last._id };
      }
    } catch (error) {
      if (signal.aborted) return undefined;
      if (error instanceof mongo.MongoServerError && HISTORY_LOST_CODES.has(Number(error.code))) {
        throw new HistoryLostError(`change stream cannot resume: ${error.message}`);
      }
      throw error;
    } finally {
      signal.removeEventListener('abort', stop);
      this.open.delete(stream);
      // Not waited for: a stuck getMore keeps its connection, and a stuck server may not answer this.
      void stream.close().catch(() => undefined);
    }
  }

  /** mongo-java-server's replies carry no operationTime or $clusterTime: its oplog's last entry. */
  private async lastOplogTime(): Promise<Timestamp> {
    const oplog = this.movies.db.client.db('local').collection('oplog.rs');
    const last = await oplog.findOne({}, { sort: { ts: -1 }, projection: { ts: 1 } });
    return last?.ts instanceof Timestamp ? last.ts : new Timestamp({ t: 0, i: 0 });
  }
}

/**
 * The stream's next event. Each getMore answer is a heartbeat (tryNext is null after an empty
 * batch); none within SOURCE_STUCK_MS means the stream is stuck, however healthy its connection.
 */
async function nextEvent(stream: ChangeStream): Promise<ChangeEvent> {
  // A closed stream's tryNext answers null at once, without asking the server.
  while (!stream.closed) {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`change stream: no batch or heartbeat for ${SOURCE_STUCK_MS} ms`)),
        SOURCE_STUCK_MS,
      );
    });
    try {
      const event = await Promise.race([stream.tryNext(), stuck]);
      if (event) return event;
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error('change stream closed');
}

function encodeToken(option: StartOption, value: unknown): string {
  return `${option}:${EJSON.stringify(value, { relaxed: false })}`;
}

function parseToken(token: string): Start {
  const colon = token.indexOf(':');
  const option = STARTS.find((name) => name === token.slice(0, colon));
  let value: unknown;
  try {
    value = EJSON.parse(token.slice(colon + 1), { relaxed: false });
  } catch {
    value = undefined;
  }
  const fits =
    option === 'startAtOperationTime'
      ? value instanceof Timestamp
      : typeof value === 'object' && value !== null;
  if (!option || !fits) throw new HistoryLostError(`not a change stream token: ${token}`);
  return { [option]: value } as Start;
}

function toMovieChange(event: ChangeEvent): MovieChange[] {
  const at = eventTime(event);
  if (COLLECTION_OPS.has(event.operationType)) {
    return [{ op: event.operationType as MovieChange['op'], titles: [], at }];
  }
  if (!MOVIE_OPS.has(event.operationType)) return [];
  const { documentKey, fullDocument } = event as mongo.ChangeStreamUpdateDocument<Document>;
  // mongo-java-server puts an update's update document in documentKey, without _id.
  const key: unknown = documentKey?._id ?? fullDocument?._id;
  const title: unknown = fullDocument?.title;
  const year: unknown = fullDocument?.year;
  return [
    {
      op: event.operationType as MovieChange['op'],
      id: key instanceof ObjectId ? key.toHexString() : undefined,
      titles:
        typeof title === 'string' ? [typeof year === 'number' ? { title, year } : { title }] : [],
      at,
    },
  ];
}

/** wallTime (MongoDB 6+), else clusterTime's seconds. */
function eventTime(event: ChangeEvent): number {
  if ('wallTime' in event && event.wallTime) return event.wallTime.getTime();
  // mongo-java-server's invalidate event has no clusterTime: the time it is read.
  return event.clusterTime ? event.clusterTime.t * 1000 : Date.now();
}
