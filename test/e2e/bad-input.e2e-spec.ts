import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import type { Document } from 'bson';
import { Distribution } from '../../src/generated/client/movies/v1/movie_service';
import { movieFactory } from '../factories/movie.factory';
import { SnapshotReader } from '../support/snapshot-reader';
import { startTestApp, type TestApp } from '../support/test-app';
import { readCopy } from '../support/cached-copy';

const TOKEN = 'bad-input-admin-token';
const MiB = 1024 * 1024;

/** Sends raw bytes as a request: what a buggy or hostile client could put on the wire. */
function rawCall(address: string, method: string, bytes: Buffer): Promise<ServiceError | null> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/movies.v1.MovieService/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      (error) => {
        client.close();
        resolve(error);
      },
    );
  });
}

describe('bad input never hurts', () => {
  const movie = movieFactory({ title: 'Sturdy', rating: 6 });
  const id = movie._id.toHexString();
  let t: TestApp;
  let storedBefore: Document | null;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_TOKEN: TOKEN }, movies: [movie] });
    await t.api.getMovie({ id });
    storedBefore = await t.movies.findOne({ _id: movie._id });
  });
  afterAll(() => t.close());

  afterEach(async () => {
    // The server keeps serving, and no bad request changed the data.
    expect((await t.api.getMovie({ id })).movie?.rating).toBe(6);
    expect(await t.movies.findOne({ _id: movie._id })).toEqual(storedBefore);
    expect(await t.movies.countDocuments()).toBe(1);
    expect((await readCopy(t.redis, id))?.rating).toBe(6);
  });

  const badLookups: Array<[string, Record<string, unknown>, status]> = [
    ['a 10,000-character id', { id: 'a'.repeat(10_000) }, status.INVALID_ARGUMENT],
    ['an id of 24 non-hex characters', { id: 'zzzzzzzzzzzzzzzzzzzzzzzz' }, status.INVALID_ARGUMENT],
    ['an id with an operator', { id: '{"$ne": null}' }, status.INVALID_ARGUMENT],
    ['an all-zero ObjectId', { id: '000000000000000000000000' }, status.NOT_FOUND],
    ['a title over 256 unicode characters', { title: 'é'.repeat(257) }, status.INVALID_ARGUMENT],
    ['a title with a bell character', { title: 'Stu\u0007rdy' }, status.INVALID_ARGUMENT],
    ['a title with a NUL', { title: '\u0000' }, status.INVALID_ARGUMENT],
    ['a unicode title', { title: 'Amélie 🎬 映画' }, status.NOT_FOUND],
    ['a title shaped like an operator', { title: '{"$gt": ""}' }, status.NOT_FOUND],
    ['a title shaped like a regex', { title: '.*' }, status.NOT_FOUND],
    ['a title shaped like a Redis key', { title: 'movie:*\r\nFLUSHALL' }, status.INVALID_ARGUMENT],
    ['the lowest int32 year', { title: 'Sturdy', year: -(2 ** 31) }, status.INVALID_ARGUMENT],
    ['the highest int32 year', { title: 'Sturdy', year: 2 ** 31 - 1 }, status.INVALID_ARGUMENT],
  ];

  it.each([
    ...badLookups,
    [
      'a 5 MiB title (over the message limit)',
      { title: 'x'.repeat(5 * MiB) },
      status.RESOURCE_EXHAUSTED,
    ],
  ])('GetMovie with %s', async (_case, request, code) => {
    await expect(t.api.getMovie(request)).rejects.toMatchObject({ code });
  });

  it('BatchGetMovies answers each of those lookups in its place with the same code, and the good one beside them', async () => {
    const lookups = [...badLookups.map(([, request]) => request), { id }];

    const { results } = await t.api.batchGetMovies({ lookups });

    expect(results.map((r) => r.error?.code)).toEqual([
      ...badLookups.map(([, , code]) => code),
      undefined,
    ]);
    expect(results.at(-1)?.found?.movie?.id).toBe(id);
  });

  it.each([
    ['NaN', Number.NaN],
    ['+Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['-1', -1],
    ['1e308', 1e308],
    ['the smallest negative double', -Number.MIN_VALUE],
  ])('UpdateRating with rating %s', async (_case, rating) => {
    await expect(t.api.updateRating({ id, rating })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it.each([
    ['a malformed id', { id: 'nope', rating: 5 }],
    ['an over-long title', { title: 'x'.repeat(300), rating: 5 }],
    ['control characters', { title: 'Sturdy\n', rating: 5 }],
  ])('UpdateRating with %s', async (_case, request) => {
    await expect(t.api.updateRating(request)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it.each([
    [{ limit: 2 ** 31 - 1 }],
    [{ limit: -(2 ** 31) }],
    [{ windowSeconds: 2 ** 31 - 1 }],
    [{ intervalMs: -1 }],
  ])('StreamTrending with %j', async (request) => {
    const reader = new SnapshotReader(t.api.streamTrending(request));
    expect(await reader.closed()).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it.each([
    [{ requests: 2 ** 31 - 1 }],
    [{ concurrency: -(2 ** 31) }],
    [{ keySpace: 2 ** 31 - 1 }],
    [{ zipfExponent: Number.NaN }],
    [{ zipfExponent: Infinity }],
    [{ seed: 2 ** 53 + 2 }],
    [{ distribution: 99 as Distribution }],
  ])('RunBenchmark with %j', async (request) => {
    await expect(t.api.runBenchmark(request)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it.each([
    ['GetMovie', 'a truncated field', Buffer.from([0x0a, 0xff, 0xff])],
    ['GetMovie', 'a string field sent as a varint', Buffer.from([0x08, 0x01])],
    ['GetMovie', 'invalid UTF-8 in the id', Buffer.from([0x0a, 0x02, 0xc3, 0x28])],
    ['UpdateRating', 'a double field cut short', Buffer.from([0x21, 0x00, 0x00])],
    ['RunBenchmark', 'random bytes', Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex')],
    ['GetCacheStats', 'a group wire type', Buffer.from([0x0b, 0x0c, 0x0f])],
  ])('%s with %s on the wire', async (method, _case, bytes) => {
    const error = await rawCall(t.address, method, bytes);
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
