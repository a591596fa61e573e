import { Injectable, Logger } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import type { Movie } from '../generated/nest/movies/v1/movie_service';

/** What a served movie is told by: enough to count it without decoding a Redis hit. */
export type ServedMovie = Pick<Movie, 'id' | 'title' | 'revision'>;

/** Told of one movie GetMovie served; `metadata` is the call's, to tell whose read it was. */
export type MovieServedListener = (movie: ServedMovie, metadata?: Metadata) => void;

/**
 * Every movie GetMovie served (hit, miss or bypass), for features that count reads. Plain
 * listeners, called in turn: a near-cache hit allocates nothing here.
 */
@Injectable()
export class MovieReadEvents {
  private readonly logger = new Logger(MovieReadEvents.name);
  private listeners: MovieServedListener[] = [];

  /** Returns the call that stops listening. */
  listen(listener: MovieServedListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => (this.listeners = this.listeners.filter((other) => other !== listener));
  }

  served(movie: ServedMovie, metadata?: Metadata): void {
    for (const listener of this.listeners) {
      try {
        listener(movie, metadata);
      } catch (error) {
        // A listener's failure is its own: the read was served.
        this.logger.error(`a listener of served movies failed: ${String(error)}`);
      }
    }
  }
}
