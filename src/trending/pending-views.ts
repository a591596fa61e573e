/** Buffered views are capped so an unreachable Redis cannot grow memory without bound. */
const MAX_PENDING_VIEWS = 100_000;

/** Views not written yet, in the three parts written (and kept on failure) separately. */
export interface PendingViews {
  /** movie id -> views */
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

/** Counts one view, unless the buffer is full. */
export function countView(
  views: PendingViews,
  bucket: number,
  movieId: string,
  title: string,
): void {
  if (!addToBucket(views, bucket, movieId, 1)) return;
  addTo(views.allTime, movieId, 1);
  views.titles.set(movieId, title);
}
