/** Buffered views are capped so an unreachable Redis cannot grow memory without bound. */
const MAX_PENDING_VIEWS = 100_000;

/** Views not written yet, in the three parts written (and kept on failure) separately. */
export interface PendingViews {
  /** movie id -> views */
  allTime: Map<string, number>;
  /** "<bucket start>:<movie id>" -> views */
  buckets: Map<string, number>;
  titles: Map<string, string>;
}

export const noViews = (): PendingViews => ({
  allTime: new Map(),
  buckets: new Map(),
  titles: new Map(),
});

export const addTo = (counts: Map<string, number>, key: string, n: number): void => {
  counts.set(key, (counts.get(key) ?? 0) + n);
};

/** Counts one view, unless the buffer is full. */
export function countView(
  views: PendingViews,
  bucket: number,
  movieId: string,
  title: string,
): void {
  const key = `${bucket}:${movieId}`;
  if (!views.buckets.has(key) && views.buckets.size >= MAX_PENDING_VIEWS) return;
  addTo(views.buckets, key, 1);
  addTo(views.allTime, movieId, 1);
  views.titles.set(movieId, title);
}
