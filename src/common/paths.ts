import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, from src/ under ts-node/jest and from dist/ alike. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

export const MOVIE_PROTO_PATH = join(projectRoot(), 'proto/movies/v1/movie_service.proto');
export const HEALTH_PROTO_PATH = join(projectRoot(), 'third_party/grpc/health/v1/health.proto');
export const BUNDLED_MOVIES_PATH = join(projectRoot(), 'data/sample_mflix/movies.json');
