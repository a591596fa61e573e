import type { Document } from 'bson';
import { BUNDLED_MOVIES_PATH } from '../../src/common/paths';
import { readMovieFile } from '../../src/movies/import/movie-import';

/** The 1,000 bundled sample_mflix movies, as the seed imports them. */
export async function bundledMovies(): Promise<Document[]> {
  const docs: Document[] = [];
  for await (const doc of readMovieFile(BUNDLED_MOVIES_PATH)) docs.push(doc);
  return docs;
}
