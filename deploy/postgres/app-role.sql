-- The role the control plane runs as in production. Migrations run as the role that owns the
-- tables; after `manage.py migrate`, run this once as that owner:
--     psql "$OWNER_DATABASE_URL" -f deploy/postgres/app-role.sql
--     psql "$OWNER_DATABASE_URL" -c "ALTER ROLE steward_app PASSWORD '...'"
-- and point the application's DATABASE_URL at steward_app.
--
-- steward_app reads and writes the catalog, appends to the audit log and seals entries (it
-- inserts seal rows and takes entries off the sealer's queue). It cannot UPDATE audit entries,
-- seals or batches (no privilege, and the triggers refuse), can DELETE entries and seals only
-- once an archive covers them (the triggers refuse the rest), cannot TRUNCATE them (no
-- privilege), and cannot disable the triggers (only the tables' owner can).
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
    ON audit_auditevent, audit_auditseal, audit_auditbatch, audit_auditcheckpoint,
       audit_auditarchive
    FROM steward_app;
-- Pruning after an archive (the triggers check the archive covers each row).
GRANT DELETE ON audit_auditevent, audit_auditseal TO steward_app;
