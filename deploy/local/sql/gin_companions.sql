-- FerretDB v1 (PostgreSQL backend) creates each MongoDB index as a btree over jsonb
-- expressions, ((_jsonb -> 'email')), but pushes an equality filter down as containment,
-- (_jsonb -> 'email') @> '"a@example.org"', which a btree cannot answer: every lookup,
-- _id included, is a sequential scan whose cost grows with the collection (FerretDB issue
-- #4646; fixed only in v2). A GIN index (jsonb_ops; jsonb_path_ops costs hundreds of pages per
-- lookup on scalars) over the same expressions answers
-- @>. This event trigger gives every FerretDB btree index such a GIN companion when it is
-- created, and drops it with its btree; the btree stays for uniqueness and order.
-- Idempotent: run at every `infra.sh up`; it also backfills indexes made before it existed.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION public.portal_gin_companion_name(index_oid oid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'gin_' || md5(n.nspname || '.' || c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = index_oid
$$;

CREATE OR REPLACE FUNCTION public.portal_gin_companion_for(index_oid oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ix record;
    columns text := '';
    expr text;
BEGIN
    SELECT i.indrelid, i.indnatts, i.indexprs IS NOT NULL AS has_exprs, am.amname,
           n.nspname, t.relname AS table_name
      INTO ix
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am am ON am.oid = c.relam
      JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE i.indexrelid = index_oid;
    IF NOT FOUND OR ix.amname <> 'btree' OR NOT ix.has_exprs THEN
        RETURN;
    END IF;
    FOR k IN 1 .. ix.indnatts LOOP
        expr := pg_get_indexdef(index_oid, k, true);
        IF expr NOT LIKE '(_jsonb -> %' THEN
            RETURN;  -- not a FerretDB field expression
        END IF;
        columns := columns || CASE WHEN k > 1 THEN ', ' ELSE '' END || expr;
    END LOOP;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s) WITH (fastupdate = off)',
                   public.portal_gin_companion_name(index_oid), ix.nspname, ix.table_name, columns);
END
$$;

CREATE OR REPLACE FUNCTION public.portal_gin_on_create() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    command record;
BEGIN
    FOR command IN SELECT objid FROM pg_event_trigger_ddl_commands()
                    WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
        BEGIN
            PERFORM public.portal_gin_companion_for(command.objid);
        EXCEPTION WHEN OTHERS THEN  -- never fail FerretDB's own index creation
            RAISE WARNING 'portal: no GIN companion for index %: %', command.objid, SQLERRM;
        END;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION public.portal_gin_on_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    dropped record;
BEGIN
    FOR dropped IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
                    WHERE object_type = 'index' AND original
                      AND object_name NOT LIKE 'gin\_%' LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I.%I', dropped.schema_name,
                       'gin_' || md5(dropped.schema_name || '.' || dropped.object_name));
    END LOOP;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'portal: GIN companion not dropped: %', SQLERRM;
END
$$;

DROP EVENT TRIGGER IF EXISTS portal_gin_on_create;
CREATE EVENT TRIGGER portal_gin_on_create ON ddl_command_end
    WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION public.portal_gin_on_create();
DROP EVENT TRIGGER IF EXISTS portal_gin_on_drop;
CREATE EVENT TRIGGER portal_gin_on_drop ON sql_drop
    WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION public.portal_gin_on_drop();

-- indexes made before the trigger existed
DO $$
DECLARE
    ix record;
BEGIN
    FOR ix IN SELECT i.indexrelid FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam
                JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE am.amname = 'btree' AND i.indexprs IS NOT NULL
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
                 AND NOT EXISTS (SELECT 1 FROM pg_class g
                                  WHERE g.relname = public.portal_gin_companion_name(i.indexrelid)
                                    AND g.relnamespace = c.relnamespace) LOOP
        BEGIN
            PERFORM public.portal_gin_companion_for(ix.indexrelid);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'portal: no GIN companion for index %: %', ix.indexrelid, SQLERRM;
        END;
    END LOOP;
END
$$;
