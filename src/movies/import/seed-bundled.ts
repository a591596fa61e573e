import { Logger, type INestApplicationContext } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { BUNDLED_MOVIES_PATH } from '../../common/paths';
import { MOVIES_COLLECTION } from '../movie.schema';
import { importMovies, readMovieFile, type ImportResult } from './movie-import';

/** Imports the bundled sample_mflix movies when the collection is empty; null when it was not. */
export async function seedIfEmpty(connection: Connection): Promise<ImportResult | null> {
  const collection = connection.collection(MOVIES_COLLECTION);
  // Not estimatedDocumentCount: FerretDB reads every document to count (80 s at 1M movies).
  if (await collection.findOne({}, { projection: { _id: 1 } })) return null;
  return importMovies(collection, readMovieFile(BUNDLED_MOVIES_PATH));
}

/** SEED_IF_EMPTY at boot: waits for MongoDB, imports if empty; a failure is logged, not fatal. */
export async function seedAppIfEmpty(app: INestApplicationContext): Promise<void> {
  const logger = new Logger('Seed');
  const connection = app.get<Connection>(getConnectionToken());
  await connection
    .asPromise()
    .then(() => seedIfEmpty(connection))
    .then(
      (seeded) => seeded && logger.log(`imported ${seeded.inserted} bundled sample_mflix movies`),
    )
    .catch((error: Error) => logger.warn(`bundled movies not imported: ${error.message}`));
}
