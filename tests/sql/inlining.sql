-- pgTAP: every SQL function of deploy/sql/repeatable that is one expression
-- (a single SELECT, no FROM, no sub-select) is inlined by the planner into
-- the query that calls it, instead of being called as a function once per
-- row.  The planner inlines such a function only when its body is no more
-- volatile than it is declared: an IMMUTABLE function whose body uses a
-- STABLE operation (jsonb_build_object, text || numeric, timestamptz +
-- interval) is silently called per row (a few microseconds each: 129,000
-- calls of gf_notification_payload in one bench run).  Each function is
-- called on two rows of NULLs of its argument types and the plan read: a
-- call of it by name in the plan is a function that was not inlined.
-- (Functions with a sub-select or a FROM cannot be inlined and are not
-- checked; gf_now () is one, read once per statement by its callers.)
BEGIN;
SELECT plan (2);

CREATE FUNCTION pg_temp.single_expression () RETURNS TABLE (f regprocedure, probe text)
LANGUAGE sql AS $$
    SELECT p.oid::regprocedure,
           format ('EXPLAIN (VERBOSE, COSTS OFF) SELECT %I (%s) FROM (VALUES (%s), (%s)) v (%s)',
                   p.proname,
                   string_agg (format ('v.a%s', a.o), ', ' ORDER BY a.o),
                   string_agg (format ('NULL::%s', format_type (a.t, NULL)), ', ' ORDER BY a.o),
                   string_agg (format ('NULL::%s', format_type (a.t, NULL)), ', ' ORDER BY a.o),
                   string_agg (format ('a%s', a.o), ', ' ORDER BY a.o))
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
     CROSS JOIN LATERAL unnest (p.proargtypes::oid[]) WITH ORDINALITY AS a (t, o)
     WHERE n.nspname = 'public' AND p.proname LIKE 'gf\_%'
       AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')
       AND p.prokind = 'f' AND NOT p.proretset AND NOT p.prosecdef AND p.proconfig IS NULL
       AND p.prosrc ~* '^\s*SELECT\s'
       AND (SELECT count (*) FROM regexp_matches (p.prosrc, '\mSELECT\M', 'gi')) = 1
       -- FROM only inside extract (x FROM ...) and substring (x FROM ...)
       AND regexp_replace (regexp_replace (p.prosrc, 'extract\s*\(\s*\w+\s+FROM', '', 'gi'),
                           'substring\s*\(\s*\w+\s+FROM', '', 'gi') !~* '\mFROM\M'
     GROUP BY p.oid, p.proname
$$;

CREATE FUNCTION pg_temp.not_inlined () RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    x record;
    line text;
BEGIN
    FOR x IN SELECT * FROM pg_temp.single_expression () LOOP
        FOR line IN EXECUTE x.probe LOOP
            IF line ~ ('\m' || split_part (x.f::text, '(', 1) || '\(') THEN
                RETURN NEXT x.f::text;
                EXIT;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

SELECT cmp_ok ((SELECT count (*) FROM pg_temp.single_expression ()), '>=', 20::bigint,
               'the check finds the one-expression SQL functions (gf_mask_address, gf_owner_grid, ...)');
SELECT is (ARRAY (SELECT pg_temp.not_inlined () ORDER BY 1), '{}'::text[],
           'every one-expression SQL function is inlined (declared no less volatile than its body)');

SELECT * FROM finish ();
ROLLBACK;
