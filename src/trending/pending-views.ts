/** Buffered views are capped so an unreachable Redis cannot grow memory without bound. */
const MAX_PENDING_VIEWS = 100_000;

/** Views not written yet, in the three parts written (and kept on failure) separately. */
export interface PendingViews {
  /** movie id -> views to add to (or, negative, take from) the sum of `buckets` */
  allTime: Map<string, number>;
  /** bucket start -> movie id -> views (no key built per view: this runs on every GetMovie) */
  buckets: Map<number, Map<string, number>>;
  /** (bucket, movie) pairs in `buckets` */
  bucketEntries: number;
  titles: Map<string, string>;
}

export const noViews = (): PendingViews => ({
  allTime: new Map(),
  buckets: new Map(),
  bucketEntries: 0,
  titles: new Map(),
});

export const addTo = (counts: Map<string, number>, key: string, n: number): void => {
  counts.set(key, (counts.get(key) ?? 0) + n);
};

/** Adds `n` views of a movie in a bucket, unless that would be a pair past the cap. */
export function addToBucket(
  views: PendingViews,
  bucket: number,
  movieId: string,
  n: number,
): boolean {
  let counts = views.buckets.get(bucket);
  const before = counts?.get(movieId);
  if (before === undefined) {
    if (views.bucketEntries >= MAX_PENDING_VIEWS) return false;
    views.bucketEntries += 1;
  }
  if (!counts) views.buckets.set(bucket, (counts = new Map()));
  counts.set(movieId, (before ?? 0) + n);
  return true;
}

/**
 * Counts one view, unless the buffer is full: one bucket entry per call; the title is kept with
 * the movie's first view since the last flush, the all-time count is summed when flushed.
 */
export function countView(
  views: PendingViews,
  bucket: number,
  movieId: string,
  title: string,
): void {
  const entries = views.bucketEntries;
  if (addToBucket(views, bucket, movieId, 1) && views.bucketEntries > entries)
    views.titles.set(movieId, title);
}

/** All-time counts to write: those kept from a failed write, plus every bucket's views. */
export function allTimeViews(views: PendingViews): Map<string, number> {
  const allTime = new Map(views.allTime);
  views.buckets.forEach((counts) => counts.forEach((n, id) => addTo(allTime, id, n)));
  allTime.forEach((n, id) => n === 0 && allTime.delete(id));
  return allTime;
}
