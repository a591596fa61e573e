import { MovieNotFoundError } from '../../src/common/errors';
import type { Movie } from '../../src/generated/nest/movies/v1/movie_service';
import type { MovieSource } from '../../src/movies/cache/movie-source';

/** One scripted MongoDB answer: a movie, none, a failure, or a function giving one. */
export type Answer = Movie | null | Error | (() => Promise<Movie | null>);

/** Scripted answers to one kind of read; the last one repeats. Counts the reads. */
export class Answers {
  calls = 0;

  constructor(private readonly answers: Answer[]) {}

  async next(): Promise<Movie | null> {
    const next = this.answers[Math.min(this.calls, this.answers.length - 1)];
    this.calls += 1;
    if (next instanceof MovieNotFoundError) return null;
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next;
  }
}

/**
 * MongoDB as the movie cache reads it (MOVIE_SOURCE): the movies it holds, unless a test scripts
 * the next answers by id or by title. Counts every read.
 */
export class MovieSourceDouble implements MovieSource {
  readonly movies = new Map<string, Movie>();
  unavailable = false;
  idReads = 0;
  /** Reads by id made at the linearizable concern (a replica set's primary, confirmed). */
  linearizableReads = 0;
  private linearizable?: Answers;
  titleReads = 0;
  private byId?: Answers;
  private byTitle?: Answers;

  /** The reads by id answer these in turn (the last repeats) until `reset`. */
  onId(...answers: Answer[]): Answers {
    return (this.byId = new Answers(answers));
  }

  /** The title queries answer these in turn (the last repeats) until `reset`. */
  onTitle(...answers: Answer[]): Answers {
    return (this.byTitle = new Answers(answers));
  }

  reset(): void {
    this.movies.clear();
    this.unavailable = false;
    this.idReads = this.titleReads = this.linearizableReads = this.batchReads = 0;
    this.byId = this.byTitle = this.linearizable = undefined;
  }

  /** Linearizable reads by id answer these in turn (else as any read by id) until `reset`. */
  onLinearizable(...answers: Answer[]): Answers {
    return (this.linearizable = new Answers(answers));
  }

  findById(id: string, _deadline?: unknown, linearizable = false): Promise<Movie | null> {
    this.idReads += 1;
    if (linearizable) {
      this.linearizableReads += 1;
      if (this.linearizable) return this.linearizable.next();
    }
    return this.byId ? this.byId.next() : Promise.resolve(this.movies.get(id) ?? null);
  }

  /** Several ids: one read (counted in `batchReads`), each as findById answers it. */
  batchReads = 0;
  async findByIds(ids: string[]): Promise<Map<string, Movie>> {
    this.batchReads += 1;
    const movies = await Promise.all(ids.map((id) => this.findById(id)));
    return new Map(movies.flatMap((movie) => (movie ? [[movie.id, movie] as const] : [])));
  }

  findByTitle(title: string, year?: number): Promise<Movie | null> {
    this.titleReads += 1;
    if (this.byTitle) return this.byTitle.next();
    const movie = [...this.movies.values()].find(
      (m) => m.title === title && (year === undefined || m.year === year),
    );
    return Promise.resolve(movie ?? null);
  }
}
