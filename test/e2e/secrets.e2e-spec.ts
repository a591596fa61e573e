import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { ObjectId } from 'bson';
import { projectRoot } from '../../src/common/paths';
import { authMetadata } from '../../src/grpc/grpc-client';
import { MovieApi } from '../../src/grpc/movie-api';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { freePort } from '../../src/stack/free-port';
import { isolatedMongoUri, testServers } from '../support/test-env';
import { sleep } from '../support/wait';
import { tempDir } from '../support/temp-dir';

const REDIS_PASSWORD = 's3cret-redis-password';
const ADMIN_TOKEN = 'admin-token-never-logged-42';

describe('Redis AUTH through REDIS_URL, and no secrets in logs', () => {
  let redis: ChildService;

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: projectRoot(),
      stdio: 'ignore',
    });
    redis = await startRedisServer(tempDir('movie-cache-auth-'), undefined, [
      '--requirepass',
      REDIS_PASSWORD,
    ]);
  });
  afterAll(() => redis.stop());

  it('uses a password-protected Redis and never prints the password or the admin token', async () => {
    const port = await freePort();
    let output = '';
    const server = spawn('node', [join(projectRoot(), 'dist/src/main.js')], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        ADMIN_TOKEN,
        REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0`,
        MONGODB_URI: isolatedMongoUri(testServers().mongoUri),
        GRPC_PORT: String(port),
        METRICS_PORT: '0',
        LOG_LEVEL: 'verbose',
      },
    });
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    const api = MovieApi.connect(`127.0.0.1:${port}`, ADMIN_TOKEN);
    try {
      let redisOk = false;
      for (let i = 0; i < 150 && !redisOk; i += 1) {
        redisOk = await api.getCacheStats().then(
          (s) => s.redisOk,
          () => sleep(200).then(() => false),
        );
      }
      expect(redisOk).toBe(true);
      const id = new ObjectId().toHexString();
      await expect(api.getMovie({ id })).rejects.toMatchObject({ code: status.NOT_FOUND });
      await expect(
        api.updateRating({ id, rating: 5 }, authMetadata('wrong-token-of-some-length')),
      ).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
      await expect(api.updateRating({ id, rating: 5 }, new Metadata())).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
      await expect(api.updateRating({ id, rating: 5 })).rejects.toMatchObject({
        code: status.NOT_FOUND,
      });
    } finally {
      api.close();
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('"method":"UpdateRating"');
    expect(output).not.toContain(REDIS_PASSWORD);
    expect(output).not.toContain(ADMIN_TOKEN);
  }, 60_000);
});
