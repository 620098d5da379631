-- The role the control plane runs as in production. Migrations run as the role that owns the
-- tables; after `manage.py migrate`, run this once as that owner:
--     psql "$OWNER_DATABASE_URL" -f deploy/postgres/app-role.sql
--     psql "$OWNER_DATABASE_URL" -c "ALTER ROLE steward_app PASSWORD '...'"
-- and point the application's DATABASE_URL at steward_app.
--
-- steward_app reads and writes the catalog, appends to the audit log and seals entries (the
-- one UPDATE the audit trigger allows). It cannot UPDATE or DELETE sealed audit rows (the
-- trigger refuses; DELETE only of entries an archive already covers), cannot TRUNCATE them
-- (no privilege), and cannot disable the triggers (only the tables' owner can).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'steward_app') THEN
        CREATE ROLE steward_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO steward_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO steward_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO steward_app;
REVOKE UPDATE, DELETE, TRUNCATE
    ON audit_auditevent, audit_auditbatch, audit_auditcheckpoint, audit_auditarchive
    FROM steward_app;
GRANT UPDATE (seq, leaf_hash, columns_md5) ON audit_auditevent TO steward_app;
GRANT DELETE ON audit_auditevent TO steward_app;
