import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { MovieApi } from '../../src/grpc/movie-api';
import { movieFactory } from '../factories/movie.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { tempDir } from '../support/temp-dir';

/** A self-signed certificate for localhost / 127.0.0.1, made with openssl. */
function selfSignedCertificate(): { cert: string; key: string } {
  const dir = tempDir('movie-cache-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' }); // prettier-ignore
  return { cert, key };
}

describe('TLS for the gRPC server', () => {
  const movie = movieFactory({ title: 'Encrypted' });
  const { cert, key } = selfSignedCertificate();
  let t: TestApp;
  let secure: MovieApi;

  beforeAll(async () => {
    t = await startTestApp({ env: { GRPC_TLS_CERT: cert, GRPC_TLS_KEY: key }, movies: [movie] });
    secure = MovieApi.connect(t.address, t.config.adminToken, {
      ca: readFileSync(cert),
      serverName: 'localhost',
    });
  });
  afterAll(async () => {
    secure.close();
    await t.close();
  });

  it('serves clients that trust its certificate', async () => {
    const response = await secure.getMovie({ id: movie._id.toHexString() });
    expect(response.movie?.title).toBe('Encrypted');
  });

  it('asks for a server name when the address is an IP address (Node.js refuses one as SNI)', () => {
    expect(() => MovieApi.connect(t.address, undefined, { ca: readFileSync(cert) })).toThrow(
      /needs a server name .*--tls-server-name/,
    );
  });

  it('refuses a server name the certificate does not carry', async () => {
    const wrong = MovieApi.connect(t.address, undefined, {
      ca: readFileSync(cert),
      serverName: 'elsewhere.example',
    });
    try {
      await expect(wrong.getMovie({ id: movie._id.toHexString() })).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
    } finally {
      wrong.close();
    }
  });

  it('refuses plaintext clients', async () => {
    await expect(t.api.getMovie({ id: movie._id.toHexString() })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
  });

  it('runs RunBenchmark over its own TLS connection', async () => {
    const report = await secure.runBenchmark({ requests: 20, keySpace: 1 });
    expect(report).toMatchObject({ totalRequests: 20, errors: 0 });
  });
});
