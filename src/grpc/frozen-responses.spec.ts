import * as protoLoader from '@grpc/proto-loader';
import { apiMovieFactory } from '../../test/factories/api-movie.factory';
import { MOVIE_PROTO_PATH } from '../common/paths';
import { encodeFrozenResponsesOnce } from './frozen-responses';
import { LOADER_OPTIONS } from './grpc-channel';

type Method = {
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
};

function getMovie(): { method: Method; encodes: () => number } {
  const definition = protoLoader.loadSync(MOVIE_PROTO_PATH, LOADER_OPTIONS);
  const service = definition['movies.v1.MovieService'] as unknown as Record<string, Method>;
  const method = service.GetMovie;
  let count = 0;
  const encode = method.responseSerialize.bind(method);
  method.responseSerialize = (value) => ((count += 1), encode(value));
  encodeFrozenResponsesOnce(definition);
  return { method, encodes: () => count };
}

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

describe(encodeFrozenResponsesOnce.name, () => {
  it('encodes a deeply frozen response once, and answers later calls with the same bytes', () => {
    const { method, encodes } = getMovie();
    const hit = deepFreeze({ movie: apiMovieFactory(), cacheStatus: 1, cacheTier: 1 });

    const first = method.responseSerialize(hit);
    const second = method.responseSerialize(hit);

    expect(encodes()).toBe(1);
    expect(second).toBe(first);
    expect(method.responseDeserialize(second)).toMatchObject({ movie: hit.movie, cacheStatus: 1 });
  });

  it('encodes every time a response that is not frozen, or frozen only on the outside', () => {
    const { method, encodes } = getMovie();
    const movie = apiMovieFactory({ rating: 5 });
    const shallow = Object.freeze({ movie, cacheStatus: 1, cacheTier: 1 });
    const open = { movie: deepFreeze(apiMovieFactory()), cacheStatus: 2, cacheTier: 0 };

    method.responseSerialize(shallow);
    movie.rating = 9; // possible while only the outside is frozen: the bytes must follow
    const changed = method.responseSerialize(shallow);
    method.responseSerialize(open);
    method.responseSerialize(open);

    expect(encodes()).toBe(4);
    expect(method.responseDeserialize(changed)).toMatchObject({ movie: { rating: 9 } });
  });
});
