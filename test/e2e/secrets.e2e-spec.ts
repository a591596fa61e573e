import { Metadata, status } from '@grpc/grpc-js';
import { ObjectId } from 'bson';
import { authMetadata } from '../../src/grpc/grpc-client';
import type { ChildService } from '../../src/stack/child-service';
import { startRedisServer } from '../../src/stack/embedded-stack';
import { isolatedMongoUri, testServers } from '../support/test-env';
import { buildService, spawnService } from '../support/service-process';
import { tempDir } from '../support/temp-dir';

const REDIS_PASSWORD = 's3cret-redis-password';
const ADMIN_TOKEN = 'admin-token-never-logged-42';

describe('Redis AUTH through REDIS_URL, and no secrets in logs', () => {
  let redis: ChildService;

  beforeAll(async () => {
    buildService();
    redis = await startRedisServer(tempDir('movie-cache-auth-'), undefined, [
      '--requirepass',
      REDIS_PASSWORD,
    ]);
  });
  afterAll(() => redis.stop());

  it('uses a password-protected Redis and never prints the password or the admin token', async () => {
    const service = await spawnService({
      NODE_ENV: 'production',
      ADMIN_TOKEN,
      REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0`,
      MONGODB_URI: isolatedMongoUri(testServers().mongoUri),
      LOG_LEVEL: 'verbose',
    });
    const { api } = service;
    let code: number | null;
    try {
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
      code = await service.stop();
    }
    expect(code).toBe(0);
    expect(service.output()).toContain('"method":"UpdateRating"');
    expect(service.output()).not.toContain(REDIS_PASSWORD);
    expect(service.output()).not.toContain(ADMIN_TOKEN);
  }, 60_000);
});
