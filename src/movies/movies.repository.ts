import { Inject, Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { BulkheadRejectedError, ExponentialBackoff, bulkhead, handleWhen, retry } from 'cockatiel';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { Connection, Model, Types } from 'mongoose';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CancelledError, DependencyUnavailableError } from '../common/errors';
import { NO_DEADLINE, type ReadDeadline } from './cache/movie-source';
import { MetricsService } from '../metrics/metrics.service';
import type { Movie } from '../generated/nest/movies/v1/movie_service';
import { reconnectIfNeverConnected } from './mongo-connection';
import { MOVIE_PROJECTION, MovieRow, toMovie } from './movie.mapper';
import { MovieEntity } from './movie.schema';

const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoExpiredSessionError',
]);
const MAX_TIME_EXPIRED = 50;

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_ERRORS.has(error.name)) return true;
  if ((error as { code?: unknown }).code === MAX_TIME_EXPIRED) return true;
  // bufferCommands=false before the first connection succeeded.
  return error.name === 'MongooseError' && /initial connection/.test(error.message);
}

/** A write refused because a concurrent one won (SQLSTATE 40001 from the embedded database). */
const lostUpdateRetry = retry(
  handleWhen(
    (error) =>
      error instanceof Error &&
      error.name === 'MongoServerError' &&
      /SQLSTATE 40001/.test(error.message),
  ),
  { maxAttempts: 100, backoff: new ExponentialBackoff({ initialDelay: 1, maxDelay: 20 }) },
);

const deadlineExceeded = () => new CancelledError(status.DEADLINE_EXCEEDED);

/** The only code that talks to MongoDB; returns plain Movie objects. */
@Injectable()
export class MoviesRepository {
  /**
   * Reads in flight are bounded, and a queued read whose callers' deadline passed is dropped
   * before it is sent: a MongoDB that stalls does not get every abandoned read when it resumes.
   */
  private readonly reads: ReturnType<typeof bulkhead>;

  constructor(
    @InjectModel(MovieEntity.name) private readonly model: Model<MovieEntity>,
    @InjectConnection() private readonly connection: Connection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.reads = bulkhead(config.mongoMaxReads, 100 * config.mongoMaxReads);
  }

  /**
   * Reads go to the model's collection, past Mongoose's query building: they return plain
   * documents anyway, and that costs about 20% less CPU per cache miss (measured).
   */
  findById(id: string, deadline = NO_DEADLINE): Promise<Movie | null> {
    return this.read('findById', deadline, async (maxTimeMS) => {
      const row = await this.model.collection.findOne<MovieRow>(
        { _id: new Types.ObjectId(id) },
        { projection: MOVIE_PROJECTION, maxTimeMS },
      );
      return row ? toMovie(row) : null;
    });
  }

  /** Exact title (and year when given); several matches: the one with most votes, then lowest id. */
  findByTitle(title: string, year?: number, deadline = NO_DEADLINE): Promise<Movie | null> {
    return this.read('findByTitle', deadline, async (maxTimeMS) => {
      // Bare equalities (inputs are validated strings/integers): every backend can serve them with an index.
      const filter: Record<string, unknown> = { title };
      if (year !== undefined) filter.year = year;
      const row = await this.model.collection.findOne<MovieRow>(filter, {
        projection: MOVIE_PROJECTION,
        sort: { 'imdb.votes': -1, _id: 1 },
        maxTimeMS,
      });
      return row ? toMovie(row) : null;
    });
  }

  /**
   * Sets imdb.rating and bumps revision atomically; returns the stored result. On the embedded
   * FerretDB a write that lost to a concurrent one is refused (see src/stack/pushdown-indexes.ts)
   * and tried again, so no write is lost there either.
   */
  updateRating(id: string, rating: number): Promise<Movie | null> {
    return this.run('updateRating', () =>
      lostUpdateRetry.execute(async () => {
        const row = await this.model
          .findOneAndUpdate(
            { _id: new Types.ObjectId(id) },
            // writeId: the embedded database tells the service's writes from others' by it.
            {
              $set: { 'imdb.rating': rating, writeId: new Types.ObjectId() },
              $inc: { revision: 1 },
            },
            // No projection: FerretDB does not support one on findAndModify.
            { returnDocument: 'after', maxTimeMS: this.config.mongoTimeoutMs },
          )
          .lean<MovieRow>()
          .exec();
        return row ? toMovie(row) : null;
      }),
    );
  }

  /**
   * Titles of the given ids: one `_id` equality per id, in parallel. (`$in` would be one query,
   * but FerretDB serves it by scanning the collection: 85 s at a million movies.)
   */
  findTitles(ids: string[]): Promise<Map<string, string>> {
    return this.run('findTitles', async () => {
      const rows = await Promise.all(
        ids.map((id) =>
          this.model
            .findOne({ _id: new Types.ObjectId(id) }, { title: 1 })
            .maxTimeMS(this.config.mongoTimeoutMs)
            .lean<{ _id: Types.ObjectId; title: string }>()
            .exec(),
        ),
      );
      return new Map(rows.flatMap((row) => (row ? [[row._id.toHexString(), row.title]] : [])));
    });
  }

  /**
   * The first `limit` movies in the collection's natural order, ids sorted: a stable key space
   * for benchmarks (the bundled movies are stored in _id order). No sort in the query: FerretDB
   * cannot push a sort down and would read every movie.
   */
  firstIds(limit: number): Promise<string[]> {
    return this.run('firstIds', async () => {
      const rows = await this.model
        .find({}, { _id: 1 })
        .limit(limit)
        .maxTimeMS(this.config.mongoTimeoutMs * 5)
        .lean<Array<{ _id: Types.ObjectId }>>()
        .exec();
      return rows.map((row) => row._id.toHexString()).sort();
    });
  }

  async ping(timeoutMs = this.config.mongoTimeoutMs): Promise<boolean> {
    if (this.config.mongoUri)
      await reconnectIfNeverConnected(this.connection, this.config.mongoUri, this.config);
    const db = this.connection.db;
    if (!db || this.connection.readyState !== 1) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
      });
      await Promise.race([db.admin().command({ ping: 1 }), timeout]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last query failed because MongoDB was unreachable (and none has succeeded since). */
  get unavailable(): boolean {
    return this.lastFailedUnavailable;
  }

  private lastFailedUnavailable = false;

  /** A read by the cache: started only within its deadline, and given no more time than is left. */
  private async read<T>(
    operation: string,
    deadline: ReadDeadline,
    query: (maxTimeMS: number) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.reads.execute(() => {
        const left = Math.floor(deadline() - Date.now());
        if (left <= 0) throw deadlineExceeded();
        const maxTimeMS = Math.min(this.config.mongoTimeoutMs, left);
        return this.run(operation, () => query(maxTimeMS), maxTimeMS < this.config.mongoTimeoutMs);
      });
    } catch (error) {
      if (error instanceof BulkheadRejectedError) throw new DependencyUnavailableError('MongoDB');
      throw error;
    }
  }

  /** `byDeadline`: its time limit is the caller's deadline, so running out of it is not an outage. */
  private async run<T>(operation: string, query: () => Promise<T>, byDeadline = false): Promise<T> {
    try {
      const result = await this.metrics.timeMongo(operation, query);
      this.lastFailedUnavailable = false;
      return result;
    } catch (error) {
      if (byDeadline && (error as { code?: unknown } | undefined)?.code === MAX_TIME_EXPIRED)
        throw deadlineExceeded();
      if (!isUnavailable(error)) throw error;
      this.lastFailedUnavailable = true;
      throw new DependencyUnavailableError('MongoDB', error);
    }
  }
}
