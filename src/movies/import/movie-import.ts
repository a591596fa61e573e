import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { EJSON, type Document } from 'bson';
import type { mongo } from 'mongoose';

export interface ImportResult {
  inserted: number;
  skipped: number;
}

export interface ImportOptions {
  batchSize?: number;
  onBatch?: (done: number) => void;
}

const DUPLICATE_KEY = 11000;

async function firstCharacter(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').trimStart()[0] ?? '';
  } finally {
    await file.close();
  }
}

/** Movies from a MongoDB Extended JSON file: one JSON array, or one document per line (JSONL). */
export async function* readMovieFile(path: string): AsyncGenerator<Document> {
  if ((await firstCharacter(path)) === '[') {
    const { readFile } = await import('node:fs/promises');
    const docs: unknown = EJSON.parse(await readFile(path, 'utf8'), { relaxed: true });
    if (!Array.isArray(docs)) throw new Error(`${path}: expected a JSON array`);
    yield* docs as Document[];
    return;
  }
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (!line.trim()) continue;
    try {
      yield EJSON.parse(line, { relaxed: true }) as Document;
    } catch (error) {
      throw new Error(`${path}:${lineNumber}: ${(error as Error).message}`, { cause: error });
    }
  }
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** Source quirks: imdb.rating / imdb.votes can be "" (no rating). Stored without them. */
export function normalizeMovie(doc: Document): Document {
  const movie: Document = { ...doc };
  if (movie.imdb && typeof movie.imdb === 'object') {
    const imdb: Document = { ...movie.imdb };
    if (!isNumber(imdb.rating)) delete imdb.rating;
    if (!isNumber(imdb.votes)) delete imdb.votes;
    movie.imdb = imdb;
  }
  if (!isNumber(movie.revision)) movie.revision = 0;
  return movie;
}

function duplicateOnly(error: unknown): error is mongo.MongoBulkWriteError {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e: { code?: number }) => e.code === DUPLICATE_KEY);
}

/** What an import needs of a collection (the driver's or mongoose's). */
export type MovieSink = Pick<mongo.Collection, 'insertMany'>;

async function insertBatch(collection: MovieSink, batch: Document[]): Promise<number> {
  try {
    return (await collection.insertMany(batch, { ordered: false })).insertedCount;
  } catch (error) {
    // Re-runs: documents already present (same _id) are skipped, the rest still go in.
    if (duplicateOnly(error)) return error.result.insertedCount;
    throw error;
  }
}

/** Inserts in unordered batches, keeping original _ids; safe to re-run. */
export async function importMovies(
  collection: MovieSink,
  docs: AsyncIterable<Document> | Iterable<Document>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const batchSize = options.batchSize ?? 1_000;
  const result: ImportResult = { inserted: 0, skipped: 0 };
  let batch: Document[] = [];
  const flush = async () => {
    const inserted = await insertBatch(collection, batch);
    result.inserted += inserted;
    result.skipped += batch.length - inserted;
    batch = [];
    options.onBatch?.(result.inserted + result.skipped);
  };
  for await (const doc of docs) {
    batch.push(normalizeMovie(doc));
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return result;
}
