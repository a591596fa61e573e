// The SQL the outbox source runs against the tables of src/stack/change-outbox.ts, and how a row
// it reads becomes a MovieChange.
import type { MovieChange, TitleRef } from './change-source';

/** The most changes one read returns: a full batch means more may be waiting. */
export const BATCH_SIZE = 500;

export interface NowRow {
  outbox_id: string;
  xmin: string;
}

/** The outbox and the position now: every transaction not finished by now has an xid >= xmin. */
export const NOW_SQL = `
SELECT outbox_id, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin FROM movie_cache.outbox`;

export interface ReadRow {
  outbox_id: string;
  lost: boolean;
  xmin: string;
  xid: string | null;
  seq: string | null;
  op: MovieChange['op'];
  id: string | null;
  old_title: string | null;
  old_year: number | null;
  new_title: string | null;
  new_year: number | null;
  at: Date;
}

/**
 * Sequence values are taken at insert, not commit, so `seq > token` could skip a row whose
 * transaction commits late. Every transaction below the snapshot's xmin has finished, and any
 * later one gets an xid >= that xmin: reading only xid < xmin in (xid, seq) order skips nothing.
 */
export const READ_SQL = `
SELECT o.outbox_id, ($2::xid8, $3::bigint) < (o.pruned_xid, o.pruned_seq) AS lost,
       pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, c.xid::text, c.seq::text,
       c.op, c.id, c.old_title, c.old_year, c.new_title, c.new_year, c.at
  FROM movie_cache.outbox o
  LEFT JOIN LATERAL (
    SELECT * FROM movie_cache.changes
     WHERE db = $1 AND (xid, seq) > ($2::xid8, $3::bigint)
       AND xid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY xid, seq LIMIT ${BATCH_SIZE}) c ON true
 ORDER BY c.xid, c.seq`;

/** Deletes a prefix of the outbox order, so "pruned up to" is one position. */
export const PRUNE_SQL = `
WITH cut AS (
  SELECT xid, seq FROM movie_cache.changes
   WHERE at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
     AND xid < pg_snapshot_xmin(pg_current_snapshot())
   ORDER BY xid DESC, seq DESC LIMIT 1
), gone AS (
  DELETE FROM movie_cache.changes c USING cut WHERE (c.xid, c.seq) <= (cut.xid, cut.seq)
)
UPDATE movie_cache.outbox o SET pruned_xid = cut.xid, pruned_seq = cut.seq FROM cut
 WHERE (cut.xid, cut.seq) > (o.pruned_xid, o.pruned_seq)`;

function titlesOf(row: ReadRow): TitleRef[] {
  const titles: TitleRef[] = [];
  for (const [title, year] of [
    [row.old_title, row.old_year],
    [row.new_title, row.new_year],
  ] as const) {
    if (title === null || titles.some((t) => t.title === title && t.year === (year ?? undefined)))
      continue;
    titles.push(year === null ? { title } : { title, year });
  }
  return titles;
}

export function toChange(row: ReadRow): MovieChange {
  const change: MovieChange = { op: row.op, titles: titlesOf(row), at: row.at.getTime() };
  if (row.id !== null) change.id = row.id;
  return change;
}
