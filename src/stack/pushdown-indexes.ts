/**
 * FerretDB 1.24 pushes an equality down as `_jsonb->'field' @> value`, which its btree indexes
 * cannot serve; a GIN `jsonb_path_ops` index on the same expression can (docs/database.md).
 */
export const PUSHDOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '*': ['_id'],
  movies: ['title'],
};

/** FerretDB names a collection's table `<lower-cased name>_<8 hex digits of its FNV-1a hash>`. */
function tablePattern(collection: string): string {
  if (!/^[a-z_]+$/.test(collection)) throw new Error(`unsupported collection name ${collection}`);
  return `^${collection}_[0-9a-f]{8}$`;
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
const textArray = (values: readonly string[]) => `ARRAY[${values.map(literal).join(', ')}]::text[]`;

function fieldsFor(): string {
  const perCollection = Object.entries(PUSHDOWN_FIELDS)
    .filter(([collection]) => collection !== '*')
    .map(
      ([collection, fields]) =>
        `  IF rel ~ ${literal(tablePattern(collection))} THEN fields := fields || ${textArray(fields)}; END IF;`,
    );
  return [`  fields := ${textArray(PUSHDOWN_FIELDS['*'] ?? [])};`, ...perCollection].join('\n');
}

/**
 * FerretDB updates by read-modify-write, so two concurrent updates can both write revision r+1.
 * The service's writes carry a new `writeId` and must raise the revision: the loser fails (40001)
 * and is retried. Any other write (no new writeId) gets its revision raised here.
 */
const REVISION_RISES_SQL = `
CREATE OR REPLACE FUNCTION public.movie_cache_revision_rises() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  old_revision numeric := COALESCE((OLD._jsonb->'revision')::numeric, -1);
BEGIN
  IF NEW._jsonb->'writeId' IS NOT NULL AND NEW._jsonb->'writeId' IS DISTINCT FROM OLD._jsonb->'writeId' THEN
    IF NOT COALESCE((NEW._jsonb->'revision')::numeric > old_revision, false) THEN
      RAISE EXCEPTION 'movie update lost to a concurrent one: revision did not rise'
        USING ERRCODE = '40001';
    END IF;
    RETURN NEW;
  END IF;
  -- FerretDB's row format: the value, its type in $s.p and the key order in $s.$k.
  IF NOT COALESCE(NEW._jsonb->'$s'->'p' ? 'revision', false) THEN
    NEW._jsonb := jsonb_set(NEW._jsonb, '{$s,p,revision}', '{"t":"int"}');
    NEW._jsonb := jsonb_set(NEW._jsonb, '{$s,$k}',
      COALESCE(NEW._jsonb->'$s'->'$k', '[]'::jsonb) || '["revision"]'::jsonb);
  END IF;
  NEW._jsonb := jsonb_set(NEW._jsonb, '{revision}', to_jsonb(GREATEST(old_revision + 1, 1,
    COALESCE((NEW._jsonb->'revision')::numeric, 0))));
  RETURN NEW;
END
$fn$;`;

/** Idempotent: run at every start, in FerretDB's database, before FerretDB connects. */
export function pushdownIndexesSql(): string {
  return `${REVISION_RISES_SQL}

CREATE OR REPLACE FUNCTION public.movie_cache_pushdown_indexes(tbl oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  sch text;
  rel text;
  fields text[];
  f text;
BEGIN
  SELECT n.nspname, c.relname INTO sch, rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = tbl AND c.relkind = 'r';
  IF rel IS NULL OR rel LIKE '\\_ferretdb\\_%' OR NOT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped
  ) THEN
    RETURN;
  END IF;
${fieldsFor()}
  IF rel ~ ${literal(tablePattern('movies'))} THEN
    EXECUTE format(
      'CREATE OR REPLACE TRIGGER movie_cache_revision_rises BEFORE UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION public.movie_cache_revision_rises()',
      sch, rel);
  END IF;
  FOREACH f IN ARRAY fields LOOP
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> %L) jsonb_path_ops) WITH (fastupdate = off)',
      left(rel, 40) || '_' || f || '_' || left(md5(rel), 8) || '_gin', sch, rel, f);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION public.movie_cache_on_create_table() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands()
              WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM public.movie_cache_pushdown_indexes(cmd.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS movie_cache_pushdown_indexes;
CREATE EVENT TRIGGER movie_cache_pushdown_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.movie_cache_on_create_table();

DO $do$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT attrelid FROM pg_attribute WHERE attname = '_jsonb' AND NOT attisdropped LOOP
    PERFORM public.movie_cache_pushdown_indexes(t.attrelid);
  END LOOP;
END
$do$;
`;
}
