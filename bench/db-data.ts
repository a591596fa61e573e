import type { Connection, Types } from 'mongoose';
import { BUNDLED_MOVIES_PATH } from '../src/common/paths';
import { importMovies, readMovieFile } from '../src/movies/import/movie-import';
import { syntheticMovies } from '../src/movies/import/synthetic-movies';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import type { Bundled } from './db-report';

/** The seed of the synthetic movies past the bundled ones. */
export const SYNTHETIC_SEED = 1;

export async function bundledMovies(): Promise<Bundled> {
  const bundled: Bundled = { ids: [], titles: [] };
  for await (const doc of readMovieFile(BUNDLED_MOVIES_PATH)) {
    bundled.ids.push(doc._id as Types.ObjectId);
    const year = typeof doc.year === 'number' ? doc.year : undefined;
    bundled.titles.push({ title: String(doc.title), year });
  }
  return bundled;
}

/** Grows the collection to `size`: the bundled movies, then synthetic ones in generator order. */
export async function fill(
  connection: Connection,
  size: number,
  bundled: Bundled,
): Promise<number> {
  const movies = connection.collection(MOVIES_COLLECTION);
  let count = await movies.estimatedDocumentCount();
  if (count === 0)
    count = (await importMovies(movies, readMovieFile(BUNDLED_MOVIES_PATH))).inserted;
  if (count >= size) return count;
  const started = Date.now();
  const from = count - bundled.ids.length;
  const docs = skip(syntheticMovies(size - bundled.ids.length, SYNTHETIC_SEED), from);
  const result = await importMovies(movies, docs, {
    onBatch: (done) =>
      done % 100_000 === 0 && console.log(`  ${count + done} documents (${seconds(started)} s)`),
  });
  console.log(`  imported ${result.inserted} movies in ${seconds(started)} s`);
  return movies.estimatedDocumentCount();
}

function* skip<T>(items: Iterable<T>, count: number): Generator<T> {
  let index = 0;
  for (const item of items) if (index++ >= count) yield item;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
