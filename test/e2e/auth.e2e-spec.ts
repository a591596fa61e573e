import { Metadata, status } from '@grpc/grpc-js';
import { authMetadata } from '../../src/grpc/grpc-client';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';

const TOKEN = 'a-long-enough-admin-token';

describe('admin token', () => {
  const movie = movieFactory({ title: 'Guarded' });
  const id = movie._id.toHexString();

  describe('with ADMIN_TOKEN set', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: { ADMIN_TOKEN: TOKEN }, movies: [movie] });
    });
    afterAll(() => t.close());

    const badMetadata: Array<[string, Metadata]> = [
      ['no authorization metadata', new Metadata()],
      ['a wrong token', authMetadata('a-long-enough-but-wrong-token')],
      ['a token that is a prefix of the real one', authMetadata(TOKEN.slice(0, -1))],
      ['the real token with one more character', authMetadata(`${TOKEN}x`)],
      [
        'the token without the Bearer scheme',
        (() => {
          const m = new Metadata();
          m.set('authorization', TOKEN);
          return m;
        })(),
      ],
    ];
    const adminCalls: Array<[string, (metadata: Metadata) => Promise<unknown>]> = [
      ['UpdateRating', (metadata) => t.api.updateRating({ id, rating: 1 }, metadata)],
      ['RunBenchmark', (metadata) => t.api.runBenchmark({ requests: 10 }, metadata)],
    ];

    it.each(
      adminCalls.flatMap(([rpc, call]) =>
        badMetadata.map(([what, md]) => [rpc, what, call, md] as const),
      ),
    )(
      'refuses %s with %s as UNAUTHENTICATED and writes nothing',
      async (_rpc, _what, call, metadata) => {
        await expect(call(metadata)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
        expect((await t.movies.findOne({ _id: movie._id }))?.imdb.rating).toBe(7.5);
      },
    );

    it.each([
      ['GetMovie', () => t.api.getMovie({ id })],
      ['GetCacheStats', () => t.api.getCacheStats()],
    ])('leaves %s open to calls without a token', async (_rpc, call) => {
      await expect(call()).resolves.toBeDefined();
    });

    it('accepts UpdateRating with the right bearer token', async () => {
      const response = await t.api.updateRating({ id, rating: 2 }, authMetadata(TOKEN));
      expect(response.movie?.rating).toBe(2);
    });

    it('leaves GetMovie open', async () => {
      expect((await t.api.getMovie({ id })).movie?.title).toBe('Guarded');
    });
  });

  describe('without ADMIN_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ movies: [movie] });
    });
    afterAll(() => t.close());

    it('accepts UpdateRating without metadata', async () => {
      const response = await t.api.updateRating({ id, rating: 3 }, new Metadata());
      expect(response.movie?.rating).toBe(3);
    });
  });
});
