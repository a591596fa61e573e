import type { Connection } from 'mongoose';
import { BUNDLED_MOVIES_PATH } from '../../common/paths';
import { MOVIES_COLLECTION } from '../movie.schema';
import { importMovies, readMovieFile, type ImportResult } from './movie-import';

/** Imports the bundled sample_mflix movies when the collection is empty; null when it was not. */
export async function seedIfEmpty(connection: Connection): Promise<ImportResult | null> {
  const collection = connection.collection(MOVIES_COLLECTION);
  if ((await collection.estimatedDocumentCount()) > 0) return null;
  return importMovies(collection, readMovieFile(BUNDLED_MOVIES_PATH));
}
