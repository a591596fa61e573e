/**
 * Cold reads side by side: a miss (a movie never read before, by id) and a title miss (by title
 * and year) on the cached service, against the same reads on the uncached one, at one
 * concurrency. Every point reads movies nobody has read before (a slice of synthetic movies of
 * its own), so the cache and MongoDB's own buffers start alike; rounds alternate the order.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'bson';
import mongoose from 'mongoose';
import { importMovies } from '../src/movies/import/movie-import';
import { seedIfEmpty } from '../src/movies/import/seed-bundled';
import { syntheticMovies } from '../src/movies/import/synthetic-movies';
import { MOVIES_COLLECTION } from '../src/movies/movie.schema';
import { ghz, percentile } from './ghz';
import { median } from './hits';

const SYNTHETIC_SEED = 53;
const KINDS = ['miss', 'uncached', 'title miss', 'uncached title'] as const;
type Kind = (typeof KINDS)[number];

export interface ColdPoint {
  kind: Kind;
  concurrency: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface ColdOptions {
  rounds: number;
  concurrency: number;
  /** Movies per point. */
  reads: number;
}

/** The bundled movies first (the hot set), then the movies the rounds read, in slices per point. */
export async function importColdMovies(mongoUri: string, options: ColdOptions) {
  const count = options.rounds * KINDS.length * options.reads;
  const movies = [...syntheticMovies(count, SYNTHETIC_SEED)];
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  try {
    await seedIfEmpty(connection);
    await importMovies(connection.collection(MOVIES_COLLECTION), movies);
  } finally {
    await connection.close();
  }
  return movies;
}

export async function coldRounds(
  servers: { cached: string; uncached: string },
  movies: Document[],
  options: ColdOptions,
): Promise<ColdPoint[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  const samples = new Map<Kind, ColdPoint[]>();
  let slice = 0;
  for (let round = 0; round < options.rounds; round += 1) {
    for (const kind of round % 2 === 0 ? KINDS : [...KINDS].reverse()) {
      const batch = movies.slice(slice * options.reads, (slice + 1) * options.reads);
      slice += 1;
      const byTitle = kind.includes('title');
      const file = join(dir, `${slice}.json`);
      writeFileSync(
        file,
        JSON.stringify(
          batch.map((m) => (byTitle ? { title: m.title, year: m.year } : { id: String(m._id) })),
        ),
      );
      const address = kind.startsWith('uncached') ? servers.uncached : servers.cached;
      const report = await ghz(address, options.concurrency, { requests: batch.length }, file);
      const point: ColdPoint = {
        kind,
        concurrency: options.concurrency,
        rps: report.rps,
        p50Ms: percentile(report, 50),
        p99Ms: percentile(report, 99),
        errors: report.count - (report.statusCodeDistribution?.OK ?? 0),
      };
      samples.set(kind, [...(samples.get(kind) ?? []), point]);
      console.log(
        `round ${round + 1} ${kind} c${options.concurrency}: ${point.rps.toFixed(0)} req/s, p50 ${point.p50Ms.toFixed(2)} ms, p99 ${point.p99Ms.toFixed(2)} ms, errors ${point.errors}`,
      );
    }
  }
  return KINDS.map((kind) => {
    const got = samples.get(kind)!;
    return {
      kind,
      concurrency: options.concurrency,
      rps: median(got.map((p) => p.rps)),
      p50Ms: median(got.map((p) => p.p50Ms)),
      p99Ms: median(got.map((p) => p.p99Ms)),
      errors: got.reduce((sum, p) => sum + p.errors, 0),
    };
  });
}

/** Misses against uncached reads of the same kind. */
export function coldRatios(points: ColdPoint[]) {
  const get = (kind: Kind) => points.find((p) => p.kind === kind)!;
  return (
    [
      ['miss', 'uncached'],
      ['title miss', 'uncached title'],
    ] as const
  ).map(([a, b]) => ({
    pair: `${a} / ${b}`,
    concurrency: get(a).concurrency,
    p50: Number((get(a).p50Ms / get(b).p50Ms).toFixed(2)),
    p99: Number((get(a).p99Ms / get(b).p99Ms).toFixed(2)),
    throughput: Number((get(a).rps / get(b).rps).toFixed(2)),
  }));
}
