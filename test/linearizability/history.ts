/**
 * The history of one phase, as tools/lincheck reads it (its history.go is the other half of
 * this format). Times are nanoseconds on the runner's one monotonic clock since the phase began.
 */
export interface MovieState {
  revision: number;
  rating: number | null;
}

export interface Register {
  id: string;
  title: string;
  /** Read from MongoDB before the clients start. */
  initial: MovieState;
}

export interface Op {
  client: number;
  instance: number;
  movie: string;
  f: 'read' | 'write';
  by: 'id' | 'title';
  /** The rating a write wrote. */
  written?: number;
  invoke: number;
  complete: number;
  /** False: the call failed or passed its deadline (a write's outcome is then unknown). */
  ok: boolean;
  out?: MovieState;
  error?: string;
  /** How a read was served (cache status and tier), for the visualization. */
  served?: string;
}

/** A fault the nemesis applied, from start to end. */
export interface Episode {
  start: number;
  end: number;
  what: string;
}

export interface History {
  phase: string;
  nearCache: 'on' | 'off';
  redis: 'single' | 'cluster';
  seconds: number;
  clock: string;
  /** Wall-clock time at 0 on the clock, to read the instances' logs beside the history. */
  startedAt: string;
  instances: string[];
  movies: Register[];
  ops: Op[];
  nemesis: Episode[];
}

export interface Counts {
  ops: number;
  reads: number;
  failedReads: number;
  writes: number;
  unknownWrites: number;
}

export function countOps(ops: Op[]): Counts {
  const reads = ops.filter((op) => op.f === 'read');
  const writes = ops.filter((op) => op.f === 'write');
  return {
    ops: ops.length,
    reads: reads.length,
    failedReads: reads.filter((op) => !op.ok).length,
    writes: writes.length,
    unknownWrites: writes.filter((op) => !op.ok).length,
  };
}

export interface Inversions {
  count: number;
  /** The first one found, in words. */
  example?: string;
}

/**
 * New-old inversions, a human-readable cross-check of the checker: a read that returned revision
 * N after another read of the same movie, completed before it started, returned a higher one.
 */
export function newOldInversions(history: History): Inversions {
  const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`;
  let count = 0;
  let example: string | undefined;
  for (const movie of history.movies) {
    const reads = history.ops.filter((op) => op.movie === movie.id && op.f === 'read' && op.ok);
    const byComplete = [...reads].sort((a, b) => a.complete - b.complete);
    const byInvoke = [...reads].sort((a, b) => a.invoke - b.invoke);
    let done = 0;
    let newest: Op | undefined;
    for (const read of byInvoke) {
      while (done < byComplete.length && byComplete[done].complete < read.invoke) {
        const before = byComplete[done++];
        if (!newest || before.out!.revision > newest.out!.revision) newest = before;
      }
      if (!newest || newest.out!.revision <= read.out!.revision) continue;
      count += 1;
      example ??=
        `"${movie.title}": client ${read.client} (instance ${read.instance}) read r${read.out!.revision}` +
        ` at ${ms(read.invoke)}-${ms(read.complete)}, after client ${newest.client}` +
        ` (instance ${newest.instance}) had read r${newest.out!.revision} by ${ms(newest.complete)}`;
    }
  }
  return { count, example };
}
