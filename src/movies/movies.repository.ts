import { Inject, Injectable } from '@nestjs/common';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { Connection, Model, Types } from 'mongoose';
import { DependencyUnavailableError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { NO_DEADLINE, type ReadDeadline } from './cache/movie-source';
import { MetricsService } from '../metrics/metrics.service';
import type { Movie } from '../generated/nest/movies/v1/movie_service';
import { MongoCalls } from './mongo-calls';
import { reconnectIfNeverConnected } from './mongo-connection';
import {
  MOVIE_PROJECTION,
  VERSION_PROJECTION,
  toMovie,
  versionOf,
  type MovieRow,
  type MovieVersion,
  type VersionRow,
} from './movie.mapper';
import { MovieEntity } from './movie.schema';

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

/** Bare equalities (inputs are validated strings/integers): every backend serves them with an index. */
function titleFilter(title: string, year: number | undefined): Record<string, unknown> {
  return year === undefined ? { title } : { title, year };
}
/** Several movies of one title: the one with most votes, then the lowest id. */
const TITLE_ORDER = { 'imdb.votes': -1, _id: 1 } as const;

/** The only code that talks to MongoDB; returns plain Movie objects. */
@Injectable()
export class MoviesRepository {
  private readonly calls: MongoCalls;
  private ferretDb?: Promise<boolean>;

  constructor(
    @InjectModel(MovieEntity.name) private readonly model: Model<MovieEntity>,
    @InjectConnection() private readonly connection: Connection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.calls = new MongoCalls(metrics, config);
  }

  /**
   * Reads go to the model's collection, past Mongoose's query building: they return plain
   * documents anyway, and that costs about 20% less CPU per cache miss (measured).
   */
  findById(id: string, deadline = NO_DEADLINE, linearizable = false): Promise<Movie | null> {
    return this.byId('findById', id, deadline, linearizable);
  }

  /** Exact title (and year when given); several matches: the one with most votes, then lowest id. */
  findByTitle(title: string, year?: number, deadline = NO_DEADLINE): Promise<Movie | null> {
    return this.byTitle('findByTitle', title, year, deadline);
  }

  /**
   * Which revision of a movie MongoDB holds now, for the consistency checker: a miss's query (the
   * id at linearizable concern on a replica set) for the revision alone, in the same slots
   * (MONGO_MAX_READS), counted as an operation of its own.
   */
  checkById(id: string): Promise<MovieVersion | null> {
    return this.calls.read('checkById', NO_DEADLINE, async (maxTimeMS) =>
      versionOf(
        await this.model.collection.findOne<VersionRow>(
          { _id: new Types.ObjectId(id) },
          { projection: VERSION_PROJECTION, maxTimeMS, ...this.linearizable(true) },
        ),
      ),
    );
  }

  checkByTitle(title: string, year?: number): Promise<MovieVersion | null> {
    return this.calls.read('checkByTitle', NO_DEADLINE, async (maxTimeMS) =>
      versionOf(
        await this.model.collection.findOne<VersionRow>(titleFilter(title, year), {
          projection: VERSION_PROJECTION,
          sort: TITLE_ORDER,
          maxTimeMS,
        }),
      ),
    );
  }

  /** A single server's reads are linearizable already; FerretDB refuses the level. */
  private linearizable(wanted: boolean) {
    return wanted && this.onReplicaSet() ? { readConcern: 'linearizable' as const } : {};
  }

  private byId(
    operation: string,
    id: string,
    deadline: ReadDeadline,
    linearizable: boolean,
  ): Promise<Movie | null> {
    return this.calls.read(operation, deadline, async (maxTimeMS) => {
      const row = await this.model.collection.findOne<MovieRow>(
        { _id: new Types.ObjectId(id) },
        {
          projection: MOVIE_PROJECTION,
          maxTimeMS,
          ...this.linearizable(linearizable),
        },
      );
      return row ? toMovie(row) : null;
    });
  }

  private byTitle(
    operation: string,
    title: string,
    year: number | undefined,
    deadline: ReadDeadline,
  ): Promise<Movie | null> {
    return this.calls.read(operation, deadline, async (maxTimeMS) => {
      const row = await this.model.collection.findOne<MovieRow>(titleFilter(title, year), {
        projection: MOVIE_PROJECTION,
        sort: TITLE_ORDER,
        maxTimeMS,
      });
      return row ? toMovie(row) : null;
    });
  }

  /**
   * Movies by id, in one query where the server serves `$in` from the _id index (MongoDB). FerretDB
   * pushes down only equalities (`$in` scans the collection: 85 s at a million movies), so there
   * each id is one equality, in parallel through the same slots; so are linearizable reads on a
   * replica set.
   */
  async findByIds(
    ids: string[],
    deadline = NO_DEADLINE,
    linearizable = false,
  ): Promise<Map<string, Movie>> {
    // A linearizable read vouches for one document only: one query per id on a replica set.
    const oneQuery = async () =>
      !(linearizable && this.onReplicaSet()) && !(await this.onFerretDb());
    if (ids.length > 1 && (await oneQuery())) {
      return this.calls.read('findByIds', deadline, async (maxTimeMS) => {
        const rows = await this.model.collection
          .find<MovieRow>(
            { _id: { $in: ids.map((id) => new Types.ObjectId(id)) } },
            { projection: MOVIE_PROJECTION, maxTimeMS },
          )
          .toArray();
        return new Map(rows.map((row) => [row._id.toHexString(), toMovie(row)]));
      });
    }
    const movies = await Promise.all(ids.map((id) => this.findById(id, deadline, linearizable)));
    return new Map(movies.flatMap((movie) => (movie ? [[movie.id, movie] as const] : [])));
  }

  /**
   * Sets imdb.rating and bumps revision atomically; returns the stored result. MongoDB stops
   * working on it by `deadline` (performance.now() time; maxTimeMS), and it is not sent after. On
   * the embedded FerretDB a write that lost to a concurrent one is refused (see
   * src/stack/pushdown-indexes.ts) and tried again, so no write is lost there either.
   */
  updateRating(id: string, rating: number, deadline = Infinity): Promise<Movie | null> {
    return this.calls.run('updateRating', () =>
      lostUpdateRetry.execute(async () => {
        const left = Math.floor(deadline - performance.now());
        if (left <= 0) throw new DependencyUnavailableError('MongoDB');
        const row = await this.model
          .findOneAndUpdate(
            { _id: new Types.ObjectId(id) },
            // writeId: the embedded database tells the service's writes from others' by it.
            {
              $set: { 'imdb.rating': rating, writeId: new Types.ObjectId() },
              $inc: { revision: 1 },
            },
            // No projection: FerretDB does not support one on findAndModify.
            {
              returnDocument: 'after',
              maxTimeMS: Math.min(this.config.mongoTimeoutMs, left),
            },
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
    return this.calls.run('findTitles', async () => {
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
    return this.calls.run('firstIds', async () => {
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

  /** FerretDB says so in buildInfo (asked until one answers; MongoDB's has no such field). */
  private async onFerretDb(): Promise<boolean> {
    this.ferretDb ??= this.calls
      .run('buildInfo', async () => {
        const info = await this.connection.db?.admin().command({ buildInfo: 1 });
        return info !== undefined && 'ferretdbVersion' in info;
      })
      .catch((error: unknown) => {
        this.ferretDb = undefined;
        throw error;
      });
    return this.ferretDb;
  }

  /** The driver's view of the deployment (the `topology` it keeps is not in its typings). */
  private onReplicaSet(): boolean {
    const client = this.connection.getClient() as unknown as {
      topology?: { description: { type: string } };
    };
    return client.topology?.description.type.startsWith('ReplicaSet') === true;
  }

  /** The last query failed because MongoDB was unreachable (and none has succeeded since). */
  get unavailable(): boolean {
    return this.calls.unavailable;
  }
}
