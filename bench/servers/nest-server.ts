/**
 * The framework's floor and a peer, for side-by-side runs: a minimal NestJS gRPC microservice on
 * the same proto whose one interceptor answers GetMovie without the handler (`floor`: a constant,
 * the shape of a cache hit; `peer`: one Redis GET and JSON.parse per call, as a NestJS user would).
 * The peer answers BatchGetMovies by id with one MGET and a JSON.parse per movie.
 * Usage: node --import tsx bench/servers/nest-server.ts floor|peer <port> [redis url]
 */
import 'reflect-metadata';
import {
  Controller,
  Module,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import Redis from 'ioredis';
import { from, lastValueFrom, of, type Observable } from 'rxjs';
import { MOVIE_PROTO_PATH } from '../../src/common/paths';
import { LOADER_OPTIONS } from '../../src/grpc/grpc-channel';
import { CONSTANT_MOVIE } from './constant-movie';

const [mode, port, redisUrl] = process.argv.slice(2);
const HIT = { movie: CONSTANT_MOVIE, cacheStatus: 1, cacheTier: 1 };
/** Where the peer keeps each movie, as JSON. */
const peerKey = (id: string) => `peer:movie:${id}`;

class FloorInterceptor implements NestInterceptor {
  intercept(): Observable<unknown> {
    return of(HIT);
  }
}

class PeerInterceptor implements NestInterceptor {
  constructor(private readonly redis: Redis) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context
      .switchToRpc()
      .getData<{ id: string; lookups?: Array<{ id: string }> }>();
    if (request.lookups) return from(this.batch(request.lookups.map((lookup) => lookup.id)));
    const { id } = request;
    return from(
      this.redis.get(peerKey(id)).then(async (json) => {
        if (json) return { movie: JSON.parse(json) as unknown, cacheStatus: 1, cacheTier: 2 };
        // A miss: the handler's answer, cached for the next call (cache-aside).
        const answer = (await lastValueFrom(next.handle())) as { movie: unknown };
        await this.redis.set(peerKey(id), JSON.stringify(answer.movie));
        return answer;
      }),
    );
  }

  /** Every movie cached (the bench warms them through GetMovie): one MGET, each JSON parsed. */
  private async batch(ids: string[]) {
    const cached = await this.redis.mget(ids.map(peerKey));
    return {
      results: cached.map((json) =>
        json
          ? { found: { movie: JSON.parse(json) as unknown, cacheStatus: 1, cacheTier: 2 } }
          : { error: { code: 5, message: 'not cached' } },
      ),
    };
  }
}

@Controller()
class MoviesController {
  @GrpcMethod('MovieService', 'GetMovie')
  getMovie() {
    return { movie: CONSTANT_MOVIE, cacheStatus: 2 };
  }

  @GrpcMethod('MovieService', 'BatchGetMovies')
  batchGetMovies() {
    return { results: [] };
  }
}

@Module({ controllers: [MoviesController] })
class FloorModule {}

async function main() {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(FloorModule, {
    transport: Transport.GRPC,
    logger: ['error'],
    options: {
      url: `127.0.0.1:${port}`,
      package: 'movies.v1',
      protoPath: MOVIE_PROTO_PATH,
      loader: LOADER_OPTIONS,
    },
  });
  if (mode === 'peer') {
    const redis = new Redis(redisUrl, { enableAutoPipelining: true });
    app.useGlobalInterceptors(new PeerInterceptor(redis));
  } else app.useGlobalInterceptors(new FloorInterceptor());
  await app.listen();
  console.log(`${mode} server ready`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
