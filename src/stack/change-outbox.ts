/** The channel the outbox notifies on every change, as a wake-up (the rows are the history). */
export const CHANGE_CHANNEL = 'movie_cache_changes';

const METADATA_TABLE = '_ferretdb_database_metadata';

const TABLES_SQL = `
CREATE SCHEMA IF NOT EXISTS movie_cache;
CREATE TABLE IF NOT EXISTS movie_cache.changes (
  seq bigserial,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  db text NOT NULL,
  op text NOT NULL,
  id text,
  old_title text,
  old_year int,
  new_title text,
  new_year int,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Each reader reads one database in (xid, seq) order.
CREATE INDEX IF NOT EXISTS changes_db_xid_seq ON movie_cache.changes (db, xid, seq);
CREATE TABLE IF NOT EXISTS movie_cache.outbox (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  outbox_id uuid NOT NULL DEFAULT gen_random_uuid(),
  pruned_xid xid8 NOT NULL DEFAULT '0',
  pruned_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO movie_cache.outbox DEFAULT VALUES ON CONFLICT DO NOTHING;`;

/**
 * FerretDB's row format: the value in _jsonb, its BSON type in $s.p (an ObjectId is its 24 hex
 * digits, typed "objectId"). Years are read as the service's mapper reads them (leading digits).
 */
const RECORD_SQL = `
CREATE OR REPLACE FUNCTION movie_cache.object_id(doc jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN doc->'$s'->'p'->'_id'->>'t' = 'objectId' THEN doc->>'_id' END
$fn$;

CREATE OR REPLACE FUNCTION movie_cache.year(doc jsonb) RETURNS int
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN y BETWEEN -2147483648 AND 2147483647 THEN y::int END
    FROM (SELECT trunc(CASE jsonb_typeof(doc->'year')
      WHEN 'number' THEN (doc->>'year')::numeric
      WHEN 'string' THEN substring(doc->>'year' FROM '^\\s*([+-]?\\d{1,12})')::numeric
    END) AS y) v
$fn$;

-- The one writer of the outbox; a change is a row, the notification only wakes readers up.
CREATE OR REPLACE FUNCTION movie_cache.record(db text, op text, old_doc jsonb, new_doc jsonb)
RETURNS void LANGUAGE sql AS $fn$
  INSERT INTO movie_cache.changes (db, op, id, old_title, old_year, new_title, new_year)
  VALUES ($1, $2, movie_cache.object_id(COALESCE($4, $3)),
    CASE WHEN jsonb_typeof($3->'title') = 'string' THEN $3->>'title' END, movie_cache.year($3),
    CASE WHEN jsonb_typeof($4->'title') = 'string' THEN $4->>'title' END, movie_cache.year($4));
  SELECT pg_notify('${CHANGE_CHANNEL}', '');
$fn$;

CREATE OR REPLACE FUNCTION movie_cache.on_movie_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM movie_cache.record(TG_TABLE_SCHEMA, 'drop', NULL, NULL);
  ELSE
    PERFORM movie_cache.record(TG_TABLE_SCHEMA, lower(TG_OP), OLD._jsonb, NEW._jsonb);
  END IF;
  RETURN NULL;
END
$fn$;`;

/**
 * The collection named movies is whichever table FerretDB's metadata says: a rename keeps the
 * table (only the metadata row changes), so the triggers follow the metadata, not table names.
 */
const ATTACH_SQL = `
CREATE OR REPLACE FUNCTION movie_cache.attach(sch text, tbl text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF to_regclass(format('%I.%I', sch, tbl)) IS NULL OR EXISTS (SELECT 1 FROM pg_trigger
      WHERE tgrelid = format('%I.%I', sch, tbl)::regclass AND tgname = 'movie_cache_changes') THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TRIGGER movie_cache_changes AFTER INSERT OR UPDATE OR DELETE ON %I.%I
    FOR EACH ROW EXECUTE FUNCTION movie_cache.on_movie_change()', sch, tbl);
  EXECUTE format('CREATE TRIGGER movie_cache_truncate AFTER TRUNCATE ON %I.%I
    FOR EACH STATEMENT EXECUTE FUNCTION movie_cache.on_movie_change()', sch, tbl);
END
$fn$;

CREATE OR REPLACE FUNCTION movie_cache.detach(sch text, tbl text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  IF to_regclass(format('%I.%I', sch, tbl)) IS NOT NULL THEN
    EXECUTE format('DROP TRIGGER IF EXISTS movie_cache_changes ON %I.%I', sch, tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS movie_cache_truncate ON %I.%I', sch, tbl);
  END IF;
END
$fn$;

-- FerretDB inserts a collection's metadata row after creating its table; renameCollection
-- rewrites the row's _id. Renames to or from movies are recorded so the consumer flushes.
CREATE OR REPLACE FUNCTION movie_cache.on_collection_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  was_movies boolean := TG_OP = 'UPDATE' AND OLD._jsonb->>'_id' = 'movies';
  is_movies boolean := NEW._jsonb->>'_id' = 'movies';
BEGIN
  IF was_movies = is_movies THEN RETURN NULL; END IF;
  IF was_movies THEN PERFORM movie_cache.detach(TG_TABLE_SCHEMA, OLD._jsonb->>'table'); END IF;
  IF is_movies THEN PERFORM movie_cache.attach(TG_TABLE_SCHEMA, NEW._jsonb->>'table'); END IF;
  IF TG_OP = 'UPDATE' THEN
    PERFORM movie_cache.record(TG_TABLE_SCHEMA, 'rename', NULL, NULL);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION movie_cache.watch_database(sch text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  metadata regclass := format('%I.%I', sch, '${METADATA_TABLE}')::regclass;
  movies text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = metadata AND tgname = 'movie_cache_collections') THEN
    EXECUTE format('CREATE TRIGGER movie_cache_collections AFTER INSERT OR UPDATE ON %s
      FOR EACH ROW EXECUTE FUNCTION movie_cache.on_collection_change()', metadata);
  END IF;
  EXECUTE format('SELECT _jsonb->>''table'' FROM %s WHERE _jsonb->''_id'' = ''"movies"''', metadata)
    INTO movies;
  IF movies IS NOT NULL THEN PERFORM movie_cache.attach(sch, movies); END IF;
END
$fn$;`;

/**
 * dropCollection is DROP TABLE and dropDatabase DROP SCHEMA CASCADE: either drops the movies
 * table's trigger with it (not as the original object, unlike a rename's detach).
 */
const EVENTS_SQL = `
CREATE OR REPLACE FUNCTION movie_cache.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  obj record;
BEGIN
  IF TG_EVENT = 'sql_drop' THEN
    FOR obj IN SELECT address_names[1] AS sch FROM pg_event_trigger_dropped_objects()
                WHERE object_type = 'trigger' AND NOT original
                  AND address_names[3] = 'movie_cache_changes' LOOP
      PERFORM movie_cache.record(obj.sch, 'drop', NULL, NULL);
    END LOOP;
    RETURN;
  END IF;
  FOR obj IN SELECT n.nspname FROM pg_event_trigger_ddl_commands() d
               JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE d.command_tag = 'CREATE TABLE' AND c.relname = '${METADATA_TABLE}' LOOP
    PERFORM movie_cache.watch_database(obj.nspname);
  END LOOP;
END
$fn$;

DO $do$
DECLARE
  t record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'movie_cache_outbox_create') THEN
    CREATE EVENT TRIGGER movie_cache_outbox_create ON ddl_command_end
      WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION movie_cache.on_ddl();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'movie_cache_outbox_drop') THEN
    CREATE EVENT TRIGGER movie_cache_outbox_drop ON sql_drop EXECUTE FUNCTION movie_cache.on_ddl();
  END IF;
  FOR t IN SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = '${METADATA_TABLE}' AND c.relkind = 'r' LOOP
    PERFORM movie_cache.watch_database(t.nspname);
  END LOOP;
END
$do$;`;

/**
 * Idempotent: installs, in FerretDB's PostgreSQL database, the outbox that records every write to
 * a database's movies collection in the writer's transaction. Needs a superuser (event triggers).
 */
export function changeOutboxSql(): string {
  return [TABLES_SQL, RECORD_SQL, ATTACH_SQL, EVENTS_SQL].join('\n');
}
