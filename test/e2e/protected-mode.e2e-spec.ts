import { join } from 'node:path';
import type { Document } from 'bson';
import { projectRoot } from '../../src/common/paths';
import { hex, movieFactory } from '../factories/movie.factory';
import { createPeerNamespace, whyNoPeers, type PeerNamespace } from '../support/peer-namespace';
import { startTestApp, type TestApp } from '../support/test-app';

const GRPCURL = join(projectRoot(), '.tools/bin/grpcurl');
const ADMIN_TOKEN = 'a-long-enough-admin-token-1234';
/**
 * A non-loopback peer needs a network namespace (root, iproute2). Without one the spec fails,
 * unless PEER_TESTS=skip says to skip it (it then says so in the run's output).
 */
const noPeers = whyNoPeers();
const withPeer = noPeers && process.env.PEER_TESTS === 'skip' ? describe.skip : describe;
if (noPeers && process.env.PEER_TESTS === 'skip')
  console.warn(`protected-mode.e2e-spec skipped (PEER_TESTS=skip): no peer namespace, ${noPeers}`);

withPeer('protected mode: admin RPCs from a peer on another address', () => {
  let peer: PeerNamespace;
  beforeAll(() => {
    if (noPeers)
      throw new Error(
        `no peer namespace (${noPeers}): run as root with iproute2, or PEER_TESTS=skip to skip`,
      );
    peer = createPeerNamespace();
  });
  afterAll(() => peer?.remove());

  /** grpcurl run from the peer's namespace; the gRPC status name ("OK", "PermissionDenied"). */
  async function callFromPeer(t: TestApp, method: string, body: object, headers: string[] = []) {
    const port = t.address.split(':')[1];
    const { code, output } = await peer.exec(GRPCURL, [
      '-plaintext',
      '-max-time',
      '10',
      ...headers.flatMap((header) => ['-H', header]),
      '-d',
      JSON.stringify(body),
      `${peer.hostAddress}:${port}`,
      `movies.v1.MovieService/${method}`,
    ]);
    // grpcurl exits 0 on OK, 64 + the code on a gRPC error; anything else is no answer at all.
    if (code === 0) return { status: 'OK', output };
    const status = /Code: (\w+)/.exec(output)?.[1];
    if (code < 64 || !status)
      throw new Error(`grpcurl from the peer failed (exit ${code}): ${output}`);
    return { status, output };
  }

  const boot = (env: Record<string, string>, movies: Document[]) =>
    startTestApp({ env: { GRPC_HOST: '0.0.0.0', ...env }, movies });

  it('without ADMIN_TOKEN: a remote UpdateRating and RunBenchmark get PERMISSION_DENIED naming ADMIN_TOKEN; reads stay open; loopback may write', async () => {
    const movie = movieFactory({ rating: 4 });
    const t = await boot({}, [movie]);
    try {
      const update = await callFromPeer(t, 'UpdateRating', { id: hex(movie), rating: 9 });
      const bench = await callFromPeer(t, 'RunBenchmark', { requests: 10 });
      const read = await callFromPeer(t, 'GetMovie', { id: hex(movie) });

      expect(update.status).toBe('PermissionDenied');
      expect(update.output).toContain('ADMIN_TOKEN');
      expect(bench.status).toBe('PermissionDenied');
      expect(read.status).toBe('OK');
      expect((await t.movies.findOne({ _id: movie._id }))?.imdb.rating).toBe(4);
      expect((await t.api.getCacheStats()).misses).toBe(1); // the benchmark never ran
      await expect(t.api.updateRating({ id: hex(movie), rating: 6 })).resolves.toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('PROTECTED_MODE=off opens them to every peer', async () => {
    const movie = movieFactory({ rating: 4 });
    const t = await boot({ PROTECTED_MODE: 'off' }, [movie]);
    try {
      expect((await callFromPeer(t, 'UpdateRating', { id: hex(movie), rating: 9 })).status).toBe(
        'OK',
      );
      expect((await t.movies.findOne({ _id: movie._id }))?.imdb.rating).toBe(9);
    } finally {
      await t.close();
    }
  });

  it('with ADMIN_TOKEN: a remote peer with the bearer may write, without it gets UNAUTHENTICATED', async () => {
    const movie = movieFactory({ rating: 4 });
    const t = await boot({ ADMIN_TOKEN }, [movie]);
    try {
      const bearer = [`authorization: Bearer ${ADMIN_TOKEN}`];
      const without = await callFromPeer(t, 'UpdateRating', { id: hex(movie), rating: 9 });
      const withToken = await callFromPeer(
        t,
        'UpdateRating',
        { id: hex(movie), rating: 7 },
        bearer,
      );

      expect(without.status).toBe('Unauthenticated');
      expect(withToken.status).toBe('OK');
      expect((await t.movies.findOne({ _id: movie._id }))?.imdb.rating).toBe(7);
    } finally {
      await t.close();
    }
  });
});
