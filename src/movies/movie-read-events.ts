import { Injectable } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import type { Movie } from '../generated/nest/movies/v1/movie_service';

export interface MovieServed {
  movie: Movie;
  /** The call's metadata, so a listener can tell whose read it was. */
  metadata?: Metadata;
}

/** Every movie GetMovie served (hit, miss or bypass), for features that count reads. */
@Injectable()
export class MovieReadEvents {
  readonly served$ = new Subject<MovieServed>();
}
