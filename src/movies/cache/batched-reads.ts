import type { Movie } from '../../generated/nest/movies/v1/movie_service';
import { NO_DEADLINE, type MovieSource, type ReadDeadline } from './movie-source';

interface Queued {
  deadlines: ReadDeadline[];
  waiters: Array<{ resolve(movie: Movie | null): void; reject(error: unknown): void }>;
}

/**
 * One batch's MongoDB reads by id, sent together: what its misses ask for within one turn of the
 * event loop goes as one query (MovieSource.findByIds), given the latest of their deadlines.
 */
export class BatchedReads implements Pick<MovieSource, 'findById'> {
  /** Plain and linearizable reads, apart: each kind is one query. */
  private readonly queued = [new Map<string, Queued>(), new Map<string, Queued>()];

  constructor(private readonly source: MovieSource) {}

  findById(id: string, deadline = NO_DEADLINE, linearizable = false): Promise<Movie | null> {
    const queue = this.queued[linearizable ? 1 : 0];
    return new Promise((resolve, reject) => {
      if (queue.size === 0) setImmediate(() => void this.send(linearizable));
      let entry = queue.get(id);
      if (!entry) queue.set(id, (entry = { deadlines: [], waiters: [] }));
      entry.deadlines.push(deadline);
      entry.waiters.push({ resolve, reject });
    });
  }

  private async send(linearizable: boolean): Promise<void> {
    const index = linearizable ? 1 : 0;
    const batch = this.queued[index];
    this.queued[index] = new Map();
    const deadlines = [...batch.values()].flatMap((entry) => entry.deadlines);
    const latest = () => Math.max(...deadlines.map((deadline) => deadline()));
    try {
      const found = await this.source.findByIds([...batch.keys()], latest, linearizable);
      for (const [id, { waiters }] of batch)
        for (const waiter of waiters) waiter.resolve(found.get(id) ?? null);
    } catch (error) {
      for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}
